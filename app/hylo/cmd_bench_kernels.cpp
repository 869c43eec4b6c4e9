// `hylo bench kernels`: every GPU kernel (kernels/, through core/model/fused_ops.h) against its
// LibTorch reference on the same inputs: max error of each path against an fp64 run, the kernel's
// pass/fail against its tolerance, and milliseconds per call with the speed-up. Exits non-zero when
// a kernel fails its check, so it doubles as the GPU machine's kernel test (it has no Qt Test).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include "app/hylo/command.h"
#include "core/infer/devices.h"
#include "core/infer/engine.h"
#include "core/infer/kernel_bench.h"
#include "core/io/atomic_file.h"
#include "core/spec/error.h"

namespace {

struct Options {
  std::string device = "cuda:0";
  std::string dtype = "bf16";
  int64_t iterations = 20;
  bool short_only = false;
  std::string out;
};

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string device_name(const std::string& id) {
  for (const auto& d : hylo::list_devices())
    if (d.id == id || (id == "cuda" && d.id == "cuda:0")) return d.name;
  return id;
}

void run(const Options& o) {
  if (o.iterations < 1) throw hylo::ConfigError("must be >= 1", {}, "--iterations");
  hylo::KernelBenchOptions k;
  k.device = hylo::parse_device(o.device, "--device");
  k.dtype = hylo::parse_dtype(o.dtype, "--dtype");
  k.iterations = o.iterations;
  k.long_context = !o.short_only;
  const auto checks = hylo::check_kernels(k);
  const bool table = !hylo::cli::global_options().json;
  const std::string gpu = device_name(o.device);
  if (table) {
    std::printf("%s, %s; errors against an fp64 run of the reference\n", gpu.c_str(), o.dtype.c_str());
    std::printf("%-11s %-40s %10s %10s %10s %4s %11s %11s %8s\n", "op", "shape", "ref err", "kernel err", "tolerance",
                "ok", "ref ms", "kernel ms", "speed-up");
  }
  nlohmann::json rows = nlohmann::json::array();
  bool all = true;
  for (const auto& c : checks) {
    all = all && c.passed();
    if (table)
      std::printf("%-11s %-40s %10.2e %10.2e %10.2e %4s %11.4f %11.4f %7.1fx\n", c.op.c_str(), c.shape.c_str(),
                  c.reference_error, c.kernel_error, c.tolerance, c.passed() ? "yes" : "NO", c.reference_ms,
                  c.kernel_ms, c.reference_ms / c.kernel_ms);
    rows.push_back({{"op", c.op}, {"shape", c.shape}, {"reference_error", c.reference_error},
                    {"kernel_error", c.kernel_error}, {"tolerance", c.tolerance}, {"passed", c.passed()},
                    {"reference_ms", c.reference_ms}, {"kernel_ms", c.kernel_ms},
                    {"speedup", c.reference_ms / c.kernel_ms}});
  }
  const char* commit = std::getenv("HYLO_COMMIT");
  nlohmann::json report = {{"name", "bench kernels"}, {"gpu", gpu}, {"dtype", o.dtype}, {"iterations", o.iterations},
                           {"date", utc_now()}, {"commit", commit ? commit : "unknown"},
                           {"command", "hylo bench kernels --dtype " + o.dtype + (o.short_only ? " --short" : "")},
                           {"results", rows}};
  if (!table) std::cout << report.dump() << "\n";
  if (!o.out.empty()) hylo::write_text_atomically(o.out, report.dump(1) + "\n");
  if (!all) throw hylo::ModelError("a GPU kernel failed its check against the fp64 reference (see the table)");
}

void setup(CLI::App& root) {
  auto o = std::make_shared<Options>();
  auto* cmd = hylo::cli::bench_group(root)->add_subcommand(
      "kernels", "GPU kernels vs their LibTorch references: accuracy against fp64 and speed-up");
  cmd->add_option("--device", o->device, "cuda | cuda:N");
  cmd->add_option("--dtype", o->dtype, "bf16 | fp16 | fp32");
  cmd->add_option("--iterations", o->iterations, "Timed calls per path");
  cmd->add_flag("--short", o->short_only, "Skip the 512K-token MLA decode case");
  cmd->add_option("--out", o->out, "Write the report JSON here");
  cmd->callback([o] { run(*o); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup);
