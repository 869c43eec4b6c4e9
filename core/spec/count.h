// Counts written by people: "50M", "2B", "8k", "64K", "1.5B", "4096". Token budgets are decimal
// (k = 1e3, M = 1e6, B/G = 1e9, T = 1e12); lengths in tokens (seq_len, context lengths) are binary
// (k = 1024, M = 2^20), as in "8k context" = 8192 and "1M context" = 1,048,576.
#pragma once
#include <cstdint>
#include <string>

namespace hylo {

enum class CountBase { Decimal, Binary };

// Throws std::invalid_argument with a short reason on bad text, so each caller can wrap it in
// its own error family with the file and field.
int64_t parse_count(const std::string& text, CountBase base);
// The shortest exact spelling with a suffix when one divides evenly ("8k" for 8192 binary).
std::string format_count(int64_t value, CountBase base);

}  // namespace hylo
