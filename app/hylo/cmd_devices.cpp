// `hylo devices`: the CPU and every GPU this machine offers, with memory (the GUI's device list).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "app/hylo/command.h"
#include "core/infer/devices.h"

static void setup_devices(CLI::App& root) {
  auto* cmd = root.add_subcommand("devices", "List compute devices (CPU always, CUDA/ROCm GPUs) with memory");
  cmd->callback([] {
    auto devices = hylo::list_devices();
    if (hylo::cli::global_options().json) {
      nlohmann::json arr = nlohmann::json::array();
      for (auto& d : devices)
        arr.push_back({{"id", d.id}, {"name", d.name}, {"total_bytes", d.total_bytes},
                       {"free_bytes", d.free_bytes}, {"threads", d.threads}});
      std::cout << arr.dump() << "\n";
      return;
    }
    for (auto& d : devices)
      std::printf("%-8s %-32s %8.1f GiB total %8.1f GiB free%s\n", d.id.c_str(), d.name.c_str(),
                  d.total_bytes / 1073741824.0, d.free_bytes / 1073741824.0,
                  d.threads ? (" threads=" + std::to_string(d.threads)).c_str() : "");
  });
}
HYLO_REGISTER_COMMAND(setup_devices);
