#include "app/hylo/rank_launcher.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/spec/error.h"

namespace hylo::cli {
namespace {

std::vector<pid_t> g_children;

void forward_signal(int sig) {
  for (pid_t p : g_children)
    if (p > 0) kill(p, sig);
}

// A TCP port that is free now (the kernel picks it); rank 0's store binds it right after.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    throw TrainError("cannot find a free port for the rendezvous; set MASTER_PORT", {}, "MASTER_PORT");
  }
  close(fd);
  return ntohs(a.sin_port);
}

bool is_option(const std::string& arg, const std::string& name) {
  return arg == name || arg.rfind(name + "=", 0) == 0;
}

std::string executable() {
  std::vector<char> buf(4096);
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) throw TrainError("cannot read /proc/self/exe", "/proc/self/exe", "--nproc");
  return std::string(buf.data(), static_cast<size_t>(n));
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 2;
}

}  // namespace

std::vector<int> parse_gpu_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0) throw ConfigError("not a GPU index: '" + item + "'", {}, "--gpus");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

std::vector<std::string> own_arguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  std::string cur;
  for (char c : raw) {
    if (c == '\0') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

int launch_ranks(const std::vector<std::string>& args, int ranks, const std::vector<int>& gpus) {
  std::vector<std::string> base{executable()};
  const bool drop_device = !gpus.empty();
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool launch_opt = is_option(a, "--nproc") || is_option(a, "--gpus");
    if (launch_opt || (drop_device && is_option(a, "--device"))) {
      if (a.find('=') == std::string::npos) ++i;  // its value
      continue;
    }
    base.push_back(a);
  }
  const char* addr_env = std::getenv("MASTER_ADDR");
  const char* port_env = std::getenv("MASTER_PORT");
  const std::string addr = addr_env && *addr_env ? addr_env : "127.0.0.1";
  const std::string port = port_env && *port_env ? port_env : std::to_string(free_port());

  std::signal(SIGINT, forward_signal);
  std::signal(SIGTERM, forward_signal);
  g_children.assign(static_cast<size_t>(ranks), 0);
  for (int r = 0; r < ranks; ++r) {
    std::vector<std::string> argv = base;
    if (!gpus.empty()) argv.insert(argv.end(), {"--device", "cuda:" + std::to_string(gpus[static_cast<size_t>(r)])});
    const pid_t pid = fork();
    if (pid < 0) throw TrainError("fork failed", {}, "--nproc");
    if (pid == 0) {
      setenv("MASTER_ADDR", addr.c_str(), 1);
      setenv("MASTER_PORT", port.c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(ranks).c_str(), 1);
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      std::vector<char*> cargv;
      for (auto& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    g_children[static_cast<size_t>(r)] = pid;
  }

  int first_failure = 0, running = ranks;
  bool stopped = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    --running;
    for (auto& p : g_children)
      if (p == pid) p = 0;
    const int code = exit_code_of(status);
    if (code == 130) stopped = true;
    if (code != 0 && code != 130 && first_failure == 0) {
      first_failure = code;
      forward_signal(SIGKILL);
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (first_failure != 0) return first_failure;
  return stopped ? 130 : 0;
}

}  // namespace hylo::cli
