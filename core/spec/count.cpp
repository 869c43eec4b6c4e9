#include "core/spec/count.h"

#include <cctype>
#include <cmath>
#include <stdexcept>

namespace hylo {
namespace {

struct Suffix { char letter; int64_t decimal; int64_t binary; };
constexpr Suffix kSuffixes[] = {{'k', 1000LL, 1LL << 10},
                                {'m', 1000000LL, 1LL << 20},
                                {'b', 1000000000LL, 1LL << 30},
                                {'g', 1000000000LL, 1LL << 30},
                                {'t', 1000000000000LL, 1LL << 40}};

}  // namespace

int64_t parse_count(const std::string& text, CountBase base) {
  if (text.empty()) throw std::invalid_argument("empty count");
  std::string digits = text;
  int64_t scale = 1;
  char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
  if (std::isalpha(static_cast<unsigned char>(last))) {
    bool known = false;
    for (const auto& s : kSuffixes)
      if (s.letter == last) {
        scale = base == CountBase::Decimal ? s.decimal : s.binary;
        known = true;
      }
    if (!known) throw std::invalid_argument("unknown suffix '" + text.substr(text.size() - 1) +
                                            "' in '" + text + "' (use k, M, B or T)");
    digits.pop_back();
  }
  size_t used = 0;
  double value;
  try {
    value = std::stod(digits, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("'" + text + "' is not a count");
  }
  if (used != digits.size() || !std::isfinite(value)) throw std::invalid_argument("'" + text + "' is not a count");
  double scaled = value * static_cast<double>(scale);
  if (std::fabs(scaled) > 9.0e18) throw std::invalid_argument("'" + text + "' is too large");
  if (scaled != std::floor(scaled)) throw std::invalid_argument("'" + text + "' is not a whole number");
  return static_cast<int64_t>(scaled);
}

std::string format_count(int64_t value, CountBase base) {
  const char* letters = "kMBT";
  std::string best = std::to_string(value);
  int i = 0;
  for (const auto& s : {kSuffixes[0], kSuffixes[1], kSuffixes[2], kSuffixes[4]}) {
    int64_t scale = base == CountBase::Decimal ? s.decimal : s.binary;
    if (value != 0 && value % scale == 0) best = std::to_string(value / scale) + letters[i];
    ++i;
  }
  return best;
}

}  // namespace hylo
