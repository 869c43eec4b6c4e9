// hylo::Tokenizer on tiny hand-made tokenizer.json files: merge order and ties, ignore_merges,
// both merge spellings, added tokens and their flags, templates and BOS/EOS, split behaviours,
// Oniguruma regex semantics, and bad files (each error must name the file and the field).
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "core/spec/error.h"
#include "core/text/regex.h"
#include "core/text/tokenizer.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The GPT-2 byte alphabet, written out independently of the library: printable Latin-1 bytes
// are themselves, the others take U+0100 onwards in byte order.
std::string byte_char(int b) {
  bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  int cp = b;
  if (!printable) {
    cp = 256;
    for (int k = 0; k < b; ++k) cp += !((k >= '!' && k <= '~') || (k >= 0xA1 && k <= 0xAC) || k >= 0xAE);
  }
  return QString(QChar(cp)).toStdString();
}

// A byte-level BPE over the 256 byte characters (ids = byte values) plus `extra` tokens
// (ids 256, 257, ...), with the Llama-3-style split regex.
json tiny(const std::vector<std::string>& extra, const json& merges, bool ignore_merges = false) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
  for (size_t i = 0; i < extra.size(); ++i) vocab[extra[i]] = 256 + static_cast<int>(i);
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"},
               {"pattern", {{"Regex", R"((?i:'s|'t)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+(?!\S)|\s+)"}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
          {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"ignore_merges", ignore_merges},
                     {"vocab", vocab}, {"merges", merges}}}};
}

json added(int id, const std::string& content, bool special, json flags = json::object()) {
  json a{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
         {"normalized", !special}, {"special", special}};
  a.update(flags);
  return a;
}

class Files {
 public:
  std::string write(const json& j, const std::string& name = "tokenizer.json") {
    fs::path p = fs::path(dir_.path().toStdString()) / name;
    std::ofstream(p) << j.dump();
    return p.string();
  }
  std::string dir() const { return dir_.path().toStdString(); }

 private:
  QTemporaryDir dir_;
};

hylo::Tokenizer load(const json& j) {
  static Files files;  // one folder; each call overwrites the file and loads it at once
  return hylo::Tokenizer::from_file(files.write(j));
}

using Ids = std::vector<int32_t>;

// Loads `j` expecting a TokenizerError whose field is `field`.
void expect_field(const json& j, const std::string& field) {
  Files f;
  std::string path = f.write(j);
  try {
    hylo::Tokenizer::from_file(path);
  } catch (const hylo::TokenizerError& e) {
    QCOMPARE(QString::fromStdString(e.field()), QString::fromStdString(field));
    QCOMPARE(QString::fromStdString(e.file()), QString::fromStdString(path));
    return;
  }
  QFAIL(qPrintable(QString("no error for %1").arg(QString::fromStdString(field))));
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void mergeOrderDecides() {
    // "abc": merging (b,c) first leads to "abc"; merging (a,b) first leaves "ab" + "c".
    auto bc_first = load(tiny({"bc", "ab", "abc"}, {"b c", "a b", "a bc"}));
    QCOMPARE(bc_first.encode("abc"), (Ids{258}));
    auto ab_first = load(tiny({"bc", "ab", "abc"}, {"a b", "b c", "a bc"}));
    QCOMPARE(ab_first.encode("abc"), (Ids{257, 'c'}));
  }
  void equalRanksMergeLeftmostFirst() {
    auto t = load(tiny({"aa"}, {"a a"}));
    QCOMPARE(t.encode("aaa"), (Ids{256, 'a'}));
    QCOMPARE(t.encode("aaaa"), (Ids{256, 256}));
  }
  void mergeSpellingsAgree() {
    auto strings = load(tiny({"he", "ll", "hell", "hello"}, {"h e", "l l", "he ll", "hell o"}));
    auto pairs = load(tiny({"he", "ll", "hell", "hello"}, json::array({json::array({"h", "e"}), json::array({"l", "l"}), json::array({"he", "ll"}), json::array({"hell", "o"})})));
    QCOMPARE(strings.encode("hello hell"), pairs.encode("hello hell"));
    QCOMPARE(strings.encode("hello"), (Ids{259}));
  }
  void ignoreMergesTakesWholeWords() {
    // "xyz" is in the vocab but no merge builds it: only ignore_merges finds it.
    QCOMPARE(load(tiny({"xyz"}, json::array(), true)).encode("xyz"), (Ids{256}));
    QCOMPARE(load(tiny({"xyz"}, json::array(), false)).encode("xyz"), (Ids{'x', 'y', 'z'}));
  }
  void bytesOfUnicodeAndSpaces() {
    auto t = load(tiny({}, json::array()));
    QCOMPARE(t.encode("é"), (Ids{0xC3, 0xA9}));  // two UTF-8 bytes, one id each
    QCOMPARE(t.encode(" a"), (Ids{' ', 'a'}));
    QCOMPARE(t.decode(t.encode("é a\n")), std::string("é a\n"));
    QCOMPARE(t.decode({0xC3}), std::string("\xEF\xBF\xBD"));  // a lone lead byte: U+FFFD
    QCOMPARE(t.vocab_size(), int64_t(256));
    QCOMPARE(t.token(' ').value(), byte_char(' '));
    QCOMPARE(t.token_id(byte_char('\n')).value(), int32_t('\n'));
    QVERIFY(!t.token(256));
  }

  void addedTokensLongestFirst() {
    json j = tiny({}, json::array());
    j["added_tokens"] = {added(300, "<a>", true), added(301, "<a><b>", true)};
    auto t = load(j);
    QCOMPARE(t.encode("x<a><b>y<a>"), (Ids{'x', 301, 'y', 300}));
    QCOMPARE(t.vocab_size(), int64_t(302));
    QCOMPARE(t.decode({'x', 301}, true), std::string("x"));
    QCOMPARE(t.decode({'x', 301}, false), std::string("x<a><b>"));
  }
  void addedTokenFlags() {
    json j = tiny({}, json::array());
    j["added_tokens"] = {added(300, "<m>", true, {{"lstrip", true}, {"rstrip", true}}),
                         added(301, "tok", false, {{"single_word", true}})};
    auto t = load(j);
    QCOMPARE(t.encode("a <m>  b"), (Ids{'a', 300, 'b'}));   // the spaces on both sides go into <m>
    QCOMPARE(t.encode("a tok b"), (Ids{'a', ' ', 301, ' ', 'b'}));
    QCOMPARE(t.encode("atok"), (Ids{'a', 't', 'o', 'k'}));  // inside a word: not a match
    QCOMPARE(t.encode("tok."), (Ids{301, '.'}));
  }
  void normalizedAddedTokensMatchAfterNfc() {
    json j = tiny({}, json::array());
    j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}};
    j["added_tokens"] = {added(300, "\u00E9t\u00E9", false, {{"normalized", true}}),
                         added(301, "\u00E0", false, {{"normalized", false}})};
    auto t = load(j);
    QCOMPARE(t.encode("e\u0301te\u0301!"), (Ids{300, '!'}));  // decomposed input, NFC then matched
    // Not normalized: matched in the raw text only, so the decomposed spelling is plain text.
    QCOMPARE(t.encode("\u00E0"), (Ids{301}));
    QCOMPARE(t.encode("a\u0300"), (Ids{0xC3, 0xA0}));
  }

  void templateAddsBosAndConfigNamesEos() {
    json j = tiny({}, json::array());
    j["added_tokens"] = {added(300, "<s>", true), added(301, "</s>", true)};
    j["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                           {"pair", json::array()},
                           {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {300}}, {"tokens", {"<s>"}}}}}}};
    Files f;
    f.write(j);
    auto t = hylo::Tokenizer::from_file(f.dir());
    QCOMPARE(t.encode("hi", true), (Ids{300, 'h', 'i'}));
    QCOMPARE(t.encode("hi", false), (Ids{'h', 'i'}));
    QCOMPARE(t.bos_id().value(), 300);
    QVERIFY(!t.eos_id());
    f.write({{"bos_token", nullptr}, {"eos_token", {{"content", "</s>"}}}}, "tokenizer_config.json");
    auto u = hylo::Tokenizer::from_file(f.dir());
    QVERIFY(!u.bos_id());
    QCOMPARE(u.eos_id().value(), 301);
    f.write({{"eos_token", "<nope>"}}, "tokenizer_config.json");
    try {
      hylo::Tokenizer::from_file(f.dir());
      QFAIL("an unknown eos_token was accepted");
    } catch (const hylo::TokenizerError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("eos_token"));
    }
  }

  void splitBehaviours() {
    json j = tiny({}, json::array());
    j["pre_tokenizer"]["pretokenizers"][0] = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", "Removed"}, {"invert", false}};
    auto removed = load(j);
    QCOMPARE(removed.encode("a-b--c"), (Ids{'a', 'b', 'c'}));
    j["pre_tokenizer"]["pretokenizers"][0]["invert"] = true;  // keeps only the matches
    QCOMPARE(load(j).encode("a-b--c"), (Ids{'-', '-', '-'}));
    // ByteLevel's own GPT-2 split with a prefix space: "hi" and " hi" encode alike.
    json k = tiny({"Ġh", "Ġhi"}, json::array({json::array({byte_char(' '), "h"}), json::array({"Ġh", "i"})}));
    k["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    auto prefixed = load(k);
    QCOMPARE(prefixed.encode("hi"), (Ids{257}));
    QCOMPARE(prefixed.encode(" hi"), (Ids{257}));
  }

  void onigurumaWhitespaceIsWhiteSpaceProperty() {
    // Oniguruma's \s is Unicode White_Space: NEL (U+0085) is in, U+180E (PCRE2's \h has it) is out.
    hylo::text::Regex ws("\\s+", "t.json", "pattern");
    QCOMPARE(ws.find_all("a\xC2\x85" "b").size(), size_t(1));
    QCOMPARE(ws.find_all("a\u180Eb").size(), size_t(0));
    hylo::text::Regex word("\\w+", "t.json", "pattern");
    QCOMPARE(word.find_all("e\u0301x"), (std::vector<std::pair<size_t, size_t>>{{0, 4}}));  // marks are word chars
    hylo::text::Regex empty("x*", "t.json", "pattern");
    QCOMPARE(empty.find_all("ab").size(), size_t(3));  // empty matches at 0, 1, 2
  }

  void badInputNamesTheField() {
    json j = tiny({"ab"}, {"a b"});
    auto with = [&](const char* ptr, json v) {
      json k = j;
      k[json::json_pointer(ptr)] = std::move(v);
      return k;
    };
    expect_field(with("/model/type", "WordPiece"), "model.type");
    expect_field(with("/model/merges/0", "a zz"), "model.merges[0]");
    expect_field(with("/model/merges/0", "a b c"), "model.merges[0]");
    expect_field(with("/model/merges/0", 7), "model.merges[0]");
    expect_field(with("/model/dropout", 0.1), "model.dropout");
    expect_field(with("/model/vocab/a", "one"), "model.vocab.a");
    expect_field(with("/normalizer", {{"type", "Lowercase"}}), "normalizer.type");
    expect_field(with("/pre_tokenizer/pretokenizers/0/type", "Whitespace"), "pre_tokenizer.pretokenizers[0].type");
    expect_field(with("/pre_tokenizer/pretokenizers/0/behavior", "MergedWithPrevious"), "pre_tokenizer.pretokenizers[0].behavior");
    expect_field(with("/pre_tokenizer/pretokenizers/0/pattern", {{"Regex", "\\h+"}}), "pre_tokenizer.pretokenizers[0].pattern.Regex");
    expect_field(with("/pre_tokenizer/pretokenizers/0/pattern", {{"Regex", "(unclosed"}}), "pre_tokenizer.pretokenizers[0].pattern.Regex");
    expect_field(with("/pre_tokenizer/pretokenizers/0/pattern", 3), "pre_tokenizer.pretokenizers[0].pattern");
    expect_field(with("/pre_tokenizer", nullptr), "pre_tokenizer");
    expect_field(with("/pre_tokenizer", {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Isolated"}}), "pre_tokenizer");
    expect_field(with("/post_processor", {{"type", "RobertaProcessing"}}), "post_processor.type");
    expect_field(with("/decoder", {{"type", "WordPiece"}}), "decoder.type");
    expect_field(with("/truncation", {{"max_length", 8}}), "truncation");
    expect_field(with("/added_tokens", {{{"id", 300}}}), "added_tokens[0].content");
    json no_space = j;
    no_space["model"]["vocab"].erase(byte_char(' '));
    expect_field(no_space, "model.vocab");
    json no_model = j;
    no_model.erase("model");
    expect_field(no_model, "model");
  }
  void badFilesAndText() {
    Files f;
    std::string bad = f.write(json(), "broken.json");
    std::ofstream(bad) << "{\"model\": [1, 2";
    QVERIFY_THROWS_EXCEPTION(hylo::TokenizerError, hylo::Tokenizer::from_file(bad));
    QVERIFY_THROWS_EXCEPTION(hylo::TokenizerError, hylo::Tokenizer::from_file(f.dir() + "/missing.json"));
    QVERIFY_THROWS_EXCEPTION(hylo::TokenizerError, hylo::Tokenizer::from_file(f.dir()));  // no tokenizer.json
    auto t = load(tiny({}, json::array()));
    try {
      t.encode("ok \xC3(");
      QFAIL("invalid UTF-8 was accepted");
    } catch (const hylo::TokenizerError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("text"));
    }
    QVERIFY_THROWS_EXCEPTION(hylo::TokenizerError, t.decode({5000}));
    QVERIFY_THROWS_EXCEPTION(hylo::TokenizerError, t.decode({-1}));
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
