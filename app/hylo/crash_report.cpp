#include "app/hylo/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <initializer_list>

namespace hylo::cli {
namespace {

void write_str(const char* s) { (void)!write(STDERR_FILENO, s, strlen(s)); }

// Only async-signal-safe calls: write, backtrace (its first call is made before any crash, so it
// does not load libgcc inside the handler), backtrace_symbols_fd, signal, raise.
void on_fatal_signal(int sig) {
  write_str("\nhylo: fatal signal ");
  write_str(strsignal(sig));
  write_str("; backtrace (newest first):\n");
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void install_crash_report() {
  void* warm[1];
  backtrace(warm, 1);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(sig, on_fatal_signal);
}

}  // namespace hylo::cli
