// Where the `hylo` CLI is: $HYLO_BIN when set (tests point it at a fake), else next to the running
// executable (both are built into the same folder and installed side by side).
#pragma once
#include <QString>

namespace hylo::views {

QString hylo_binary();

}  // namespace hylo::views
