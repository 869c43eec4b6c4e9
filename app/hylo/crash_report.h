// On a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) `hylo` prints the signal and a
// backtrace to stderr before dying with it, so a crash in a long run leaves more than "Segmentation
// fault" in its log.
#pragma once

namespace hylo::cli {

void install_crash_report();

}  // namespace hylo::cli
