// Subcommand registry of the `hylo` CLI. Each app/hylo/cmd_*.cpp adds its subcommand with
// HYLO_REGISTER_COMMAND(setup_fn); main() calls every setup function on the root CLI::App.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace hylo::cli {

using CommandSetup = std::function<void(CLI::App& root)>;
bool register_command(CommandSetup setup);

// Global options every command sees (set by main before the callback runs).
struct GlobalOptions {
  int threads = 0;    // 0 = all cores
  bool json = false;  // machine-readable output on read commands
};
GlobalOptions& global_options();

}  // namespace hylo::cli

#define HYLO_CONCAT_INNER(a, b) a##b
#define HYLO_CONCAT(a, b) HYLO_CONCAT_INNER(a, b)
#define HYLO_REGISTER_COMMAND(fn) \
  static const bool HYLO_CONCAT(hylo_registered_, __LINE__) = ::hylo::cli::register_command(fn)
