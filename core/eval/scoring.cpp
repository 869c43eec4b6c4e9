// Scoring of task answers and the length / depth grids of NIAH and RULER sweeps.
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "core/eval/tasks.h"
#include "core/spec/count.h"
#include "core/spec/error.h"

namespace hylo {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string strip_punctuation(const std::string& s) {
  const char* punct = ".,;:!?\"'()[]{}<>*`";
  size_t b = s.find_first_not_of(punct), e = s.find_last_not_of(punct);
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);) out.push_back(item);
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

double score_contains(const std::string& answer, const std::vector<std::string>& expected) {
  if (expected.empty()) throw EvalError("no expected answers", "", "expected");
  std::string a = lower(answer);
  int found = 0;
  for (const auto& e : expected) found += a.find(lower(e)) != std::string::npos;
  return static_cast<double>(found) / static_cast<double>(expected.size());
}

double score_exact(const std::string& answer, const std::vector<std::string>& expected) {
  if (expected.empty()) throw EvalError("no expected answers", "", "expected");
  std::set<std::string> got, want;
  std::string text = answer;
  for (char& c : text)
    if (c == ',' || c == ';' || std::isspace(static_cast<unsigned char>(c))) c = ' ';
  std::istringstream in(text);
  for (std::string item; in >> item;) {
    item = lower(strip_punctuation(item));
    if (!item.empty()) got.insert(item);
  }
  for (const auto& e : expected) want.insert(lower(strip_punctuation(e)));
  return got == want ? 1.0 : 0.0;
}

std::vector<int64_t> parse_lengths(const std::string& text) {
  std::vector<int64_t> out;
  std::vector<std::string> items = split(text, ',');
  auto number = [&](const std::string& item) {
    try {
      int64_t v = parse_count(trim(item), CountBase::Binary);
      if (v <= 0) throw std::invalid_argument("must be > 0");
      return v;
    } catch (const std::invalid_argument& e) {
      throw EvalError(std::string(e.what()) + " in '" + text + "'", "", "lengths");
    }
  };
  for (size_t i = 0; i < items.size(); ++i) {
    if (trim(items[i]) != "...") {
      out.push_back(number(items[i]));
      continue;
    }
    // "a,b,...,z": continue the geometric series a, b, ... up to z, which it must hit.
    if (out.size() < 2 || i + 1 != items.size() - 1)
      throw EvalError("'...' needs two lengths before it and one after, as in 1k,2k,...,1M", "", "lengths");
    int64_t a = out[out.size() - 2], b = out.back(), last = number(items[i + 1]);
    if (b <= a || b % a != 0) throw EvalError("'...' needs a whole ratio > 1 between the first two", "", "lengths");
    int64_t ratio = b / a;
    while (out.back() < last) out.push_back(out.back() * ratio);
    if (out.back() != last)
      throw EvalError(std::to_string(last) + " is not in the series " + std::to_string(a) + " * " +
                          std::to_string(ratio) + "^k", "", "lengths");
    break;
  }
  if (out.empty()) throw EvalError("no lengths", "", "lengths");
  return out;
}

std::vector<double> parse_depths(const std::string& text) {
  auto number = [&](const std::string& item) {
    std::string t = trim(item);
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0') throw EvalError("'" + t + "' is not a number", "", "depths");
    if (v < 0.0 || v > 100.0) throw EvalError("depth " + t + " is outside 0-100", "", "depths");
    return v;
  };
  std::vector<double> out;
  std::vector<std::string> range = split(text, ':');
  if (range.size() == 3) {
    double start = number(range[0]), stop = number(range[1]);
    double step = std::strtod(trim(range[2]).c_str(), nullptr);
    if (!(step > 0.0)) throw EvalError("the step of start:stop:step must be > 0", "", "depths");
    if (stop < start) throw EvalError("stop is below start", "", "depths");
    for (int64_t k = 0; start + k * step <= stop + 1e-9; ++k) out.push_back(start + k * step);
  } else if (range.size() == 1) {
    for (const auto& item : split(text, ',')) out.push_back(number(item));
  } else {
    throw EvalError("expected start:stop:step or a comma list", "", "depths");
  }
  if (out.empty()) throw EvalError("no depths", "", "depths");
  return out;
}

}  // namespace hylo
