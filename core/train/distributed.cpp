#include "core/train/distributed.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#include <chrono>
#include <cstdlib>

#include "core/spec/error.h"

// The torch build says which backends it has; the Gloo headers are a separate package on some
// systems (Debian: libgloo-dev); pip wheels ship neither the Gloo nor the NCCL headers.
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define HYLO_HAVE_GLOO 1
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define HYLO_HAVE_NCCL 1
#endif

namespace hylo {
namespace {

// 1.x backends are ProcessGroups; 2.x split them out as c10d::Backend.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

constexpr auto kTimeout = std::chrono::minutes(10);

int env_int(const char* name, int fallback, int min) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < min || x > 65535)
    throw TrainError(std::string("not an integer >= ") + std::to_string(min) + ": '" + v + "'", "environment", name);
  return static_cast<int>(x);
}

}  // namespace

struct Communicator::Group {
  Group(const DistEnv& env, at::Device device) {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<std::size_t>(env.world);
    so.waitWorkers = true;
    so.timeout = kTimeout;
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    if (device.is_cpu()) {
#if defined(HYLO_HAVE_GLOO)
      auto opts = c10d::ProcessGroupGloo::Options::create(kTimeout);
      const char* iface = std::getenv("GLOO_SOCKET_IFNAME");
      opts->devices.push_back(iface && *iface ? c10d::ProcessGroupGloo::createDeviceForInterface(iface)
                              : env.master_addr == "127.0.0.1" || env.master_addr == "localhost"
                                  ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                  : c10d::ProcessGroupGloo::createDefaultDevice());
      backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world, opts);
#else
      throw TrainError("this build has no Gloo (LibTorch without USE_C10D_GLOO, or no gloo headers): "
                       "CPU data parallelism is unavailable", {}, "--nproc");
#endif
    } else if (device.is_cuda()) {
#if defined(HYLO_HAVE_NCCL)
      c10::cuda::set_device(device.index() < 0 ? 0 : device.index());
      backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world,
                                                             c10d::ProcessGroupNCCL::Options::create());
#else
      throw TrainError("this LibTorch build has no NCCL: GPU data parallelism is unavailable", {}, "--gpus");
#endif
    } else {
      throw TrainError("no collective backend for device " + device.str(), {}, "--device");
    }
  }

  void reduce(at::Tensor& flat, c10d::ReduceOp op) {
    std::vector<at::Tensor> one{flat};
    c10d::AllreduceOptions o;
    o.reduceOp = op;
    backend->allreduce(one, o)->wait();
  }

  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> backend;
};

DistEnv dist_env_from_environment() {
  DistEnv e;
  e.world = env_int("WORLD_SIZE", 1, 1);
  e.rank = env_int("RANK", 0, 0);
  e.local_rank = env_int("LOCAL_RANK", e.rank, 0);
  e.master_port = env_int("MASTER_PORT", e.master_port, 1);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) e.master_addr = a;
  if (e.rank >= e.world)
    throw TrainError("RANK " + std::to_string(e.rank) + " is not below WORLD_SIZE " + std::to_string(e.world),
                     "environment", "RANK");
  return e;
}

Communicator::Communicator(DistEnv env, at::Device device) : env_(std::move(env)), device_(device) {
  if (env_.world > 1) group_ = std::make_unique<Group>(env_, device_);
}
Communicator::~Communicator() = default;

std::unique_ptr<Communicator> Communicator::connect(const DistEnv& env, at::Device device) {
  return std::unique_ptr<Communicator>(new Communicator(env, device));
}

void Communicator::average(const std::vector<at::Tensor>& tensors) {
  if (world() == 1 || tensors.empty()) return;
  std::vector<at::Tensor> flat_parts;
  for (auto& t : tensors) flat_parts.push_back(t.reshape({-1}));
  at::Tensor flat = at::cat(flat_parts);  // (sum of numels)
  group_->reduce(flat, c10d::ReduceOp::SUM);
  flat.div_(static_cast<double>(world()));
  int64_t offset = 0;
  for (auto& t : tensors) {
    t.copy_(flat.slice(0, offset, offset + t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

void Communicator::average(std::map<std::string, double>& values) {
  if (world() == 1 || values.empty()) return;
  std::vector<double> v;
  for (auto& [name, x] : values) v.push_back(x);
  at::Tensor flat = at::tensor(v, at::kDouble).to(device_.is_cuda() ? device_ : at::Device(at::kCPU));
  group_->reduce(flat, c10d::ReduceOp::SUM);
  flat = flat.cpu() / static_cast<double>(world());
  size_t i = 0;
  for (auto& [name, x] : values) x = flat[static_cast<int64_t>(i++)].item<double>();
}

bool Communicator::any(bool flag) {
  if (world() == 1) return flag;
  at::Tensor t = at::full({1}, flag ? 1 : 0, at::TensorOptions().dtype(at::kInt).device(device_));
  group_->reduce(t, c10d::ReduceOp::MAX);
  return t.item<int>() != 0;
}

void Communicator::finish() {
  if (!group_) return;
  if (!is_root()) {
    group_->backend.reset();
    group_->store->set("hylo/exit/" + std::to_string(rank()), std::vector<uint8_t>{1});
  } else {
    for (int r = 1; r < world(); ++r) group_->store->get("hylo/exit/" + std::to_string(r));
    group_->backend.reset();
  }
  group_.reset();
}

std::vector<std::string> Communicator::gather_at_root(const std::string& key, const std::string& value) {
  if (world() == 1) return {value};
  const std::string base = "hylo/" + key + "/";
  if (!is_root()) {
    group_->store->set(base + std::to_string(rank()), std::vector<uint8_t>(value.begin(), value.end()));
    return {};
  }
  std::vector<std::string> all{value};
  for (int r = 1; r < world(); ++r) {
    const std::string k = base + std::to_string(r);
    auto bytes = group_->store->get(k);  // waits until rank r has set it
    group_->store->deleteKey(k);
    all.emplace_back(bytes.begin(), bytes.end());
  }
  return all;
}

}  // namespace hylo
