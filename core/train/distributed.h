// Data parallelism over LibTorch c10d. Ranks meet through a TCPStore at MASTER_ADDR:MASTER_PORT
// (torchrun's variables, so a run spans nodes the same way) and reduce through Gloo on the CPU or
// NCCL on CUDA (when this LibTorch build has it). One rank (world 1) needs no store and no group.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/train/dist_env.h"

namespace hylo {

class Communicator {
 public:
  // Joins the group (blocks until every rank has come, or the timeout). world 1: nothing to join.
  // A device type without a backend in this build is a TrainError.
  static std::unique_ptr<Communicator> connect(const DistEnv& env, at::Device device);
  ~Communicator();

  int rank() const { return env_.rank; }
  int world() const { return env_.world; }
  bool is_root() const { return env_.rank == 0; }

  // Every tensor becomes the mean over the ranks (one flat all-reduce; the tensors share a dtype).
  void average(const std::vector<at::Tensor>& tensors);
  // Each value becomes the mean over the ranks (every rank holds the same names).
  void average(std::map<std::string, double>& values);
  // True on every rank when it is true on one.
  bool any(bool flag);
  // The last call of a run that went well: rank 0 hosts the store, so it waits until every other
  // rank has closed its group (NCCL's watchdog polls the store until then) before closing its own.
  void finish();
  // Each rank's string, in rank order, at rank 0 (the other ranks get an empty list).
  std::vector<std::string> gather_at_root(const std::string& key, const std::string& value);

 private:
  struct Group;  // store + backend; absent for one rank
  Communicator(DistEnv env, at::Device device);

  DistEnv env_;
  at::Device device_;
  std::unique_ptr<Group> group_;
};

}  // namespace hylo
