#include "core/eval/haystack.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_set>

#include "core/spec/error.h"

namespace fs = std::filesystem;

namespace hylo {
namespace {

const char* kNoise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

const char* kAdjectives[] = {"amber", "quiet", "brisk", "hollow", "silver", "crimson", "gentle", "rapid",
                             "frozen", "golden", "humble", "lunar", "misty", "noble", "rustic", "solar",
                             "tidal", "velvet", "wild", "zealous", "ancient", "bold", "clever", "distant",
                             "eager", "fierce", "grand", "hidden", "ivory", "jolly", "keen", "lively"};
const char* kNouns[] = {"harbor", "falcon", "meadow", "lantern", "canyon", "orchard", "glacier", "compass",
                        "violin", "beacon", "thicket", "quarry", "summit", "harvest", "anchor", "ember",
                        "fountain", "garden", "island", "jungle", "kettle", "ladder", "mirror", "needle",
                        "oasis", "pebble", "quill", "river", "saddle", "tunnel", "valley", "willow"};

struct Corpus {
  std::vector<std::vector<std::string>> documents;  // words per file, in sorted file order
};

// Brown corpus documents are named by genre letter and number (ca01 ... cr09).
bool is_essay_file(const fs::path& p) {
  static const std::regex brown("^c[a-r][0-9][0-9]$");
  std::string name = p.filename().string();
  return std::regex_match(name, brown) || p.extension() == ".txt";
}

const Corpus& load_corpus(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, Corpus> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(dir);
  if (it != cache.end()) return it->second;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw EvalError("essay folder not found", dir, "essay_dir");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && is_essay_file(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Corpus corpus;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto words = words_of_brown_text(ss.str());
    if (!words.empty()) corpus.documents.push_back(std::move(words));
  }
  if (corpus.documents.empty()) throw EvalError("no essay text (Brown corpus files or .txt) in the folder", dir, "essay_dir");
  return cache.emplace(dir, std::move(corpus)).first->second;
}

}  // namespace

std::vector<std::string> noise_words(int64_t min_words) {
  std::vector<std::string> paragraph, out;
  std::istringstream in(kNoise);
  for (std::string w; in >> w;) paragraph.push_back(w);
  while (static_cast<int64_t>(out.size()) < min_words) out.insert(out.end(), paragraph.begin(), paragraph.end());
  return out;
}

std::vector<std::string> words_of_brown_text(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  bool open_quote = false;
  for (std::string item; in >> item;) {
    // A tag is the part after the last '/' when that part is lower-case letters and tag symbols.
    size_t slash = item.rfind('/');
    if (slash != std::string::npos && slash > 0 && slash + 1 < item.size() &&
        item.find_first_not_of("abcdefghijklmnopqrstuvwxyz-+*$()'.,:`", slash + 1) == std::string::npos)
      item = item.substr(0, slash);
    if (item == "``" || item == "''") item = "\"";
    bool punct = item == "." || item == "," || item == ";" || item == ":" || item == "?" || item == "!" ||
                 item == ")" || item == "'s";
    if (item == "\"") {
      // Opening quotes attach to the next word, closing ones to the previous.
      if (open_quote && !words.empty()) words.back() += item;
      open_quote = !open_quote;
      if (open_quote) words.push_back(item);
      continue;
    }
    if (punct && !words.empty()) {
      words.back() += item;
    } else if (!words.empty() && (words.back() == "\"" || words.back() == "(")) {
      words.back() += item;
    } else {
      words.push_back(item);
    }
  }
  return words;
}

std::vector<std::string> essay_words(const std::string& dir, int64_t min_words, Rng& rng) {
  const Corpus& corpus = load_corpus(dir);
  std::vector<std::string> out;
  size_t doc = rng.below(corpus.documents.size());
  while (static_cast<int64_t>(out.size()) < min_words) {
    const auto& words = corpus.documents[doc];
    out.insert(out.end(), words.begin(), words.end());
    doc = (doc + 1) % corpus.documents.size();
  }
  return out;
}

std::string random_key(Rng& rng) {
  return std::string(kAdjectives[rng.below(std::size(kAdjectives))]) + "-" + kNouns[rng.below(std::size(kNouns))];
}

std::string random_number(Rng& rng, int digits) {
  std::string s(1, char('1' + rng.below(9)));
  for (int i = 1; i < digits; ++i) s += char('0' + rng.below(10));
  return s;
}

std::string random_uuid(Rng& rng) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    uint64_t nibble = rng.below(16);
    if (i == 12) nibble = 4;                      // version 4
    if (i == 16) nibble = 8 + (nibble & 3);       // RFC 4122 variant
    s += hex[nibble];
  }
  return s;
}

std::string random_variable(Rng& rng) {
  std::string s;
  for (int i = 0; i < 5; ++i) s += char('A' + rng.below(26));
  return s;
}

std::vector<std::string> distinct_words(Rng& rng, int64_t count) {
  static const char* consonants = "bdfgklmnprstvz";
  static const char* vowels = "aeiou";
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  // Three syllables give 14^3 * 5^3 = 343,000 words; four when more are needed.
  int syllables = count > 100'000 ? 4 : 3;
  while (static_cast<int64_t>(out.size()) < count) {
    std::string w;
    for (int i = 0; i < syllables; ++i) {
      w += consonants[rng.below(14)];
      w += vowels[rng.below(5)];
    }
    if (seen.insert(w).second) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace hylo
