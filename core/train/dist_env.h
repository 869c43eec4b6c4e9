// Where this process sits in a data-parallel run, from torchrun's environment variables.
#pragma once
#include <string>

namespace hylo {

struct DistEnv {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; without WORLD_SIZE one process.
// A malformed or inconsistent value is a TrainError naming the variable.
DistEnv dist_env_from_environment();

}  // namespace hylo
