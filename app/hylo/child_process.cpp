#include "app/hylo/child_process.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "core/spec/error.h"

namespace hylo::cli {
namespace {

// Splits a pipe's bytes into lines; `cr_splits` also ends a line at '\r'.
struct LineSplitter {
  std::string pending;
  bool cr_splits = false;
  void feed(const char* data, size_t n, const std::function<void(const std::string&)>& sink) {
    for (size_t i = 0; i < n; ++i) {
      char c = data[i];
      if (c == '\n' || (cr_splits && c == '\r')) {
        if (sink && !pending.empty()) sink(pending);
        pending.clear();
      } else {
        pending += c;
      }
    }
  }
  void flush(const std::function<void(const std::string&)>& sink) {
    if (sink && !pending.empty()) sink(pending);
    pending.clear();
  }
};

}  // namespace

int run_self(const std::vector<std::string>& args, const ChildOutput& out, std::string* stderr_tail) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
    throw IoError(std::string("cannot create a pipe: ") + std::strerror(errno), "", "child process");
  const pid_t pid = fork();
  if (pid < 0) throw IoError(std::string("cannot fork: ") + std::strerror(errno), "", "child process");
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  LineSplitter out_lines, err_lines;
  err_lines.cr_splits = true;
  std::deque<std::string> tail;
  auto on_err = [&](const std::string& line) {
    tail.push_back(line);
    if (tail.size() > 40) tail.pop_front();
    if (out.on_stderr) out.on_stderr(line);
  };
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        if (i == 0) out_lines.feed(buf, static_cast<size_t>(n), out.on_stdout);
        else err_lines.feed(buf, static_cast<size_t>(n), on_err);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  out_lines.flush(out.on_stdout);
  err_lines.flush(on_err);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (stderr_tail) {
    stderr_tail->clear();
    for (auto& l : tail) *stderr_tail += l + "\n";
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace hylo::cli
