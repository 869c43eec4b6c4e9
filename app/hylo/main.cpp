// `hylo`: one binary, subcommands registered by app/hylo/cmd_*.cpp.
// Exit codes: 0 ok, 1 bad input (the message names file and field), 2 internal error, 130 interrupted.
#include <ATen/Parallel.h>

#include <iostream>
#include <thread>
#include <vector>

#include "app/hylo/command.h"
#include "app/hylo/crash_report.h"
#include "core/spec/error.h"

namespace hylo::cli {

static std::vector<CommandSetup>& registry() {
  static std::vector<CommandSetup> r;
  return r;
}
bool register_command(CommandSetup setup) {
  registry().push_back(std::move(setup));
  return true;
}
GlobalOptions& global_options() {
  static GlobalOptions g;
  return g;
}

}  // namespace hylo::cli

int main(int argc, char** argv) {
  using namespace hylo::cli;
  install_crash_report();
  CLI::App app{"hylo: long-context upcycling of Transformers into MLA / Mamba2 / Gated DeltaNet hybrids"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  auto& g = global_options();
  app.add_option("--threads", g.threads, "CPU threads for tensor work (default: all cores)");
  app.add_flag("--json", g.json, "Machine-readable output");
  app.parse_complete_callback([&g] {
    int n = g.threads > 0 ? g.threads : static_cast<int>(std::thread::hardware_concurrency());
    at::set_num_threads(n > 0 ? n : 1);
  });
  for (auto& setup : registry()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const hylo::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
