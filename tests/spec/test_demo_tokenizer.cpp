// The demo's byte-level tokenizer (core/text/byte_vocab.h): every id is the byte it stands for
// (checked against the raw UTF-8 bytes, an independent reference), <|endoftext|> is one token and
// the EOS, the committed demo/tokenizer.json is exactly what the generator writes, and the
// reference @huggingface/tokenizers (node) gives the same ids and texts on varied strings.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/text/byte_vocab.h"
#include "core/text/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path cache_dir() {
  QByteArray env = qgetenv("HYLO_CACHE");
  return env.isEmpty() ? fs::path(qgetenv("HOME").toStdString()) / ".cache/hylo" : fs::path(env.toStdString());
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int32_t> bytes_of(const std::string& s) {
  std::vector<int32_t> ids;
  for (unsigned char c : s) ids.push_back(c);
  return ids;
}

std::vector<std::string> cases() {
  std::vector<std::string> out = {
      "", " ", "The jury said Friday that the election was conducted.", "  leading and trailing  ",
      "line\nbreaks\r\nand\ttabs", "don't, we'll, they're", "Zürich, Köln, naïve café", "你好，世界！",
      "👍 👨‍👩‍👧‍👦 🇫🇷", "control\x01\x1F and del\x7F", "One of the special magic numbers for amber-harbor is: 4821937.",
      "a<|endoftext|>b", "<|endoftext|>", "x <|endoftext|> y<|endoftext|>", "<|endoftext", "12345 67890 3.14159"};
  // Random printable ASCII and UTF-8 mixes, seeded.
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"a", "Z", " ", "  ", "\n", "9", ".", "'s", "é", "ß", "中", "🙂", "-", "\t", "<|endoftext|>"};
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    out.push_back(s);
  }
  return out;
}

}  // namespace

class TestDemoTokenizer : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  fs::path file_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    file_ = fs::path(dir_.path().toStdString()) / "tokenizer.json";
    std::ofstream(file_, std::ios::binary) << hylo::text::byte_level_tokenizer_json();
  }

  void idsAreBytes() {
    auto tok = hylo::Tokenizer::from_file(file_.string());
    QCOMPARE(tok.vocab_size(), int64_t{257});
    QCOMPARE(tok.eos_id().value_or(-1), hylo::text::kByteLevelEosId);
    QVERIFY(!tok.bos_id().has_value());
    for (const auto& s : cases()) {
      if (s.find(hylo::text::kByteLevelEos) != std::string::npos) continue;
      QCOMPARE(tok.encode(s, false), bytes_of(s));
      QCOMPARE(tok.decode(bytes_of(s)), s);
      auto with_eos = bytes_of(s);
      with_eos.push_back(hylo::text::kByteLevelEosId);
      QCOMPARE(tok.encode(s, true), with_eos);
    }
    // Every single byte, valid UTF-8 or not, is its own id.
    for (int b = 0; b < 256; ++b) QCOMPARE(*tok.token_id(*tok.token(b)), b);
    QCOMPARE(tok.encode("a<|endoftext|>b"), (std::vector<int32_t>{'a', 256, 'b'}));
  }

  void committedFileIsGenerated() {
    const QByteArray src = qgetenv("HYLO_SOURCE_DIR");
    QVERIFY(!src.isEmpty());
    QCOMPARE(read_file(fs::path(src.toStdString()) / "demo/tokenizer.json"), hylo::text::byte_level_tokenizer_json());
  }

  void matchesHuggingFace() {
    const fs::path lib = cache_dir() / "hf-tokenizers";
    if (!fs::is_directory(lib)) QSKIP("no @huggingface/tokenizers in HYLO_CACHE (scripts/fetch_test_data.sh)");
    json requests = {{"encode", json::array()}, {"decode", json::array()}};
    const auto all = cases();
    for (const auto& s : all) {
      requests["encode"].push_back({{"text", s}, {"add_special_tokens", false}});
      requests["encode"].push_back({{"text", s}, {"add_special_tokens", true}});
    }
    // Cut byte sequences (broken UTF-8) decode to U+FFFD in both.
    std::vector<std::vector<int32_t>> decodes;
    for (size_t i = 0; i < all.size(); i += 3) {
      auto ids = bytes_of(all[i]);
      if (ids.size() > 2) ids.erase(ids.begin() + static_cast<long>(ids.size() / 2));
      ids.push_back(256);
      decodes.push_back(ids);
      requests["decode"].push_back({{"ids", ids}, {"skip_special_tokens", false}});
      requests["decode"].push_back({{"ids", ids}, {"skip_special_tokens", true}});
    }
    const QString d = dir_.path();
    std::ofstream(d.toStdString() + "/req.json") << requests.dump();
    QProcess node;
    node.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const QString script = QString::fromStdString(std::string(qgetenv("HYLO_SOURCE_DIR").constData()) + "/tests/tools/hf_tokenize.mjs");
    node.start("node", {script, QString::fromStdString(lib.string()), QString::fromStdString(file_.string()),
                        d + "/req.json", d + "/ans.json"});
    QVERIFY(node.waitForFinished(120000));
    QCOMPARE(node.exitCode(), 0);
    const json answers = json::parse(read_file(d.toStdString() + "/ans.json"));
    auto tok = hylo::Tokenizer::from_file(file_.string());
    size_t k = 0;
    for (const auto& s : all)
      for (bool special : {false, true}) {
        const auto want = answers["encode"][k++].get<std::vector<int32_t>>();
        if (tok.encode(s, special) != want) QFAIL(("encode differs on " + json(s).dump()).c_str());
      }
    k = 0;
    for (const auto& ids : decodes)
      for (bool skip : {false, true}) {
        const auto want = answers["decode"][k++].get<std::string>();
        if (tok.decode(ids, skip) != want) QFAIL(("decode differs on " + json(ids).dump()).c_str());
      }
  }
};

QTEST_GUILESS_MAIN(TestDemoTokenizer)
#include "test_demo_tokenizer.moc"
