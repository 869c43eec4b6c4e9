// Subcommand registry of the `hylo` CLI. Each app/hylo/cmd_*.cpp adds its subcommand with
// HYLO_REGISTER_COMMAND(setup_fn); main() calls every setup function on the root CLI::App.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace hylo::cli {

using CommandSetup = std::function<void(CLI::App& root)>;
bool register_command(CommandSetup setup);

// Global options every command sees (set by main before the callback runs).
struct GlobalOptions {
  int threads = 0;    // 0 = all cores
  bool json = false;  // machine-readable output on read commands
};
GlobalOptions& global_options();

// The subcommand `name` of `root`, created with `description` by whichever command file asks
// first (several files add their benchmarks under `bench`).
inline CLI::App* subcommand_group(CLI::App& root, const std::string& name, const std::string& description) {
  for (auto* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  auto* group = root.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}
inline CLI::App* bench_group(CLI::App& root) {
  return subcommand_group(root, "bench", "Benchmarks (print a table; --json / --out for JSON)");
}
inline CLI::App* data_group(CLI::App& root) {
  return subcommand_group(root, "data", "Training data: tokenize text into shards, inspect shards");
}

}  // namespace hylo::cli

#define HYLO_CONCAT_INNER(a, b) a##b
#define HYLO_CONCAT(a, b) HYLO_CONCAT_INNER(a, b)
#define HYLO_REGISTER_COMMAND(fn) \
  static const bool HYLO_CONCAT(hylo_registered_, __LINE__) = ::hylo::cli::register_command(fn)
