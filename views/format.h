// Human-readable numbers for labels: binary units for bytes (what memory is sold in is GiB of
// 2^30), decimal for counts (parameters, FLOPs), as model cards write them.
#pragma once
#include <QString>
#include <cstdint>

namespace hylo::views {

QString human_bytes(double bytes);  // "32.0 KiB", "2.00 GiB"
QString human_count(double n);      // "1.24 B", "262.1 M", "8192"

}  // namespace hylo::views
