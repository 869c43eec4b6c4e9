// `hylo train --nproc N` / `--gpus 0,1`: one child `hylo` per rank with torchrun's variables
// (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK), the same command line otherwise.
#pragma once
#include <string>
#include <vector>

namespace hylo::cli {

// This process's command line, argv[0] first (from /proc/self/cmdline).
std::vector<std::string> own_arguments();

// "0,1,3" -> {0, 1, 3}; "" -> {}. Anything else is a ConfigError naming --gpus.
std::vector<int> parse_gpu_list(const std::string& text);

// Starts `ranks` children running `args` (argv[0] is replaced by this executable) without the
// options --nproc and --gpus; with `gpus`, rank r gets `--device cuda:<gpus[r]>` instead of any
// --device. SIGINT/SIGTERM are passed on to every child. When a rank fails the others are killed
// (they would wait for it forever in a collective). Returns 0 when every rank succeeded, 130 when
// they stopped on a signal, else the exit code of the first rank that failed.
int launch_ranks(const std::vector<std::string>& args, int ranks, const std::vector<int>& gpus);

}  // namespace hylo::cli
