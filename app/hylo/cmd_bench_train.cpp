// `hylo bench train <student> [--teacher <shape>] [--seq-len 8192] [--steps n] [--device cuda:0]`:
// training steps of a random-weight student (a kd stage with a teacher, else CE pretraining) with
// the trainer's own step (core/train/train_step.h) and AdamW, printing one JSON line: tokens/s,
// achieved model TFLOP/s, MFU against --peak-tflops and peak memory. --nproc N / --gpus 0,1 run
// one data-parallel rank per process (gradients all-reduced as in `hylo train`); rank 0 reports
// the tokens/s of all ranks together and the TFLOP/s and MFU per GPU. --trace FILE records the timed
// steps' operators and kernels (rank 0) as a Chrome trace. --ops reference runs the same steps with
// LibTorch's ops in place of every kernel of ours (the A/B baseline of speed and loss).
//
// Model FLOPs per token = 3 * F_student + F_teacher, with F = hylo_spec's prefill FLOPs per token
// at the sequence length (core/spec/estimates.h: weights, attention / mixer terms and lm_head): the
// backward costs twice the forward, the teacher only runs forward. Recomputation under activation
// checkpointing is not counted (the usual MFU convention).
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "app/hylo/command.h"
#include "app/hylo/rank_launcher.h"
#include "core/infer/engine.h"
#include "core/io/atomic_file.h"
#include "core/model/fused_ops.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/model_shapes.h"
#include "core/spec/plan.h"
#include "core/train/distributed.h"
#include "core/train/op_trace.h"
#include "core/train/optimizer.h"
#include "core/train/peak_memory.h"
#include "core/train/train_step.h"

namespace {

struct Args {
  std::string student = "llama-1b-hylo", teacher, device = "cpu", precision, json, gpus, trace, ops = "auto";
  int64_t seq_len = 8192, batch = 1, steps = 5, warmup = 2;
  int nproc = 1;
  double peak_tflops = 790;
  bool recompute = false;
};

void run(Args a) {
  if (a.nproc > 1 || !a.gpus.empty()) {
    if (std::getenv("WORLD_SIZE")) throw hylo::ConfigError("already a rank (WORLD_SIZE is set)", {}, "--nproc");
    const auto gpus = hylo::cli::parse_gpu_list(a.gpus);
    const int ranks = gpus.empty() ? a.nproc : static_cast<int>(gpus.size());
    const int code = hylo::cli::launch_ranks(hylo::cli::own_arguments(), ranks, gpus);
    if (code != 0) std::exit(code);
    return;
  }
  const hylo::DistEnv env = hylo::dist_env_from_environment();
  if (a.device == "cuda") a.device = "cuda:" + std::to_string(env.local_rank);
  if (a.seq_len < 2) throw hylo::ConfigError("must be >= 2", {}, "--seq-len");
  if (a.batch < 1) throw hylo::ConfigError("must be >= 1", {}, "--batch");
  if (a.steps < 1) throw hylo::ConfigError("must be >= 1", {}, "--steps");
  if (a.warmup < 0) throw hylo::ConfigError("must be >= 0", {}, "--warmup");
  if (!(a.peak_tflops > 0)) throw hylo::ConfigError("must be > 0", {}, "--peak-tflops");
  if (a.ops != "auto" && a.ops != "reference") throw hylo::ConfigError("must be auto or reference", {}, "--ops");
  hylo::set_reference_ops_only(a.ops == "reference");
  const at::Device device = hylo::parse_device(a.device, "--device");
  auto comm = hylo::Communicator::connect(env, device);
  const bool bf16 = a.precision.empty() ? device.is_cuda() : a.precision == "bf16";
  if (!a.precision.empty() && a.precision != "bf16" && a.precision != "fp32")
    throw hylo::ConfigError("must be fp32 or bf16", {}, "--precision");

  const hylo::ModelConfig sc = hylo::model_shape(a.student, "student");
  std::cerr << "building student " << a.student << " (" << hylo::compact_name(sc) << ") with random weights\n";
  auto student = std::make_shared<hylo::HybridModel>(sc);
  student->to(device, at::kFloat);  // fp32 master weights
  student->train();
  std::shared_ptr<hylo::HybridModel> teacher;
  double teacher_flops = 0;
  if (!a.teacher.empty()) {
    const hylo::ModelConfig tc = hylo::model_shape(a.teacher, "--teacher");
    if (tc.vocab_size != sc.vocab_size)
      throw hylo::ConfigError("teacher vocabulary " + std::to_string(tc.vocab_size) + " differs from the student's " +
                                  std::to_string(sc.vocab_size), a.teacher, "--teacher");
    std::cerr << "building teacher " << a.teacher << " (" << hylo::compact_name(tc) << ")\n";
    teacher = std::make_shared<hylo::HybridModel>(tc);
    teacher->to(device, device.is_cuda() ? at::kBFloat16 : at::kFloat);
    teacher->eval();
    for (auto& p : teacher->parameters()) p.set_requires_grad(false);
    teacher_flops = hylo::estimate(tc, a.seq_len).prefill_flops_per_token;
  }
  const double student_flops = hylo::estimate(sc, a.seq_len).prefill_flops_per_token;
  const double flops_per_token = 3 * student_flops + teacher_flops;

  hylo::NamedTensors params;
  for (auto& item : student->named_parameters()) params.emplace_back(item.key(), item.value());
  hylo::AdamW opt(params);
  hylo::MicroStep step;
  step.kind = teacher ? hylo::StageKind::Kd : hylo::StageKind::Pretrain;
  step.bf16_autocast = bf16;
  step.recompute = a.recompute;
  at::manual_seed(1 + env.rank);  // each rank its own batch
  const at::Tensor ids = at::randint(sc.vocab_size, {a.batch, a.seq_len + 1}, at::kLong).to(device);
  const at::Tensor inputs = ids.slice(1, 0, a.seq_len), targets = ids.slice(1, 1, a.seq_len + 1);

  double loss = 0, timed_s = 0;
  std::unique_ptr<hylo::OpTrace> trace;
  for (int64_t i = 0; i < a.warmup + a.steps; ++i) {
    hylo::synchronize(device);
    if (i == a.warmup && !a.trace.empty() && comm->is_root()) trace = std::make_unique<hylo::OpTrace>(device.is_cuda());
    const auto t0 = std::chrono::steady_clock::now();
    std::map<std::string, double> m;
    hylo::forward_backward(*student, teacher.get(), step, inputs, targets, m);
    std::vector<at::Tensor> grads;
    for (auto& [name, p] : params)
      if (p.grad().defined()) grads.push_back(p.mutable_grad());
    comm->average(grads);
    hylo::clip_grad_norm(params, 1.0);
    opt.step(1e-5, 0.0);
    opt.zero_grad();
    hylo::synchronize(device);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i >= a.warmup) timed_s += dt;
    loss = m.at("loss");
    if (!comm->is_root()) continue;
    std::cerr << "step " << i + 1 << (i < a.warmup ? " (warmup)" : "") << ": " << dt << " s, loss " << loss << "\n";
  }
  if (trace) {
    trace->save(a.trace);
    std::cerr << "trace of the timed steps: " << a.trace << " (the profiler slows them: time without --trace)\n";
  }
  comm->finish();
  if (env.rank != 0) return;
  const double tokens_per_s = static_cast<double>(a.batch * a.seq_len * a.steps * env.world) / timed_s;
  const double tflops = flops_per_token * tokens_per_s / 1e12 / env.world;  // per rank
  nlohmann::json r = {{"name", "bench train"},
                      {"student", a.student},
                      {"layers", hylo::compact_name(sc)},
                      {"teacher", a.teacher},
                      {"stage", teacher ? "kd" : "pretrain"},
                      {"device", a.device},
                      {"precision", bf16 ? "bf16" : "fp32"},
                      {"ops", a.ops},
                      {"activation_checkpointing", a.recompute},
                      {"seq_len", a.seq_len},
                      {"batch", a.batch},
                      {"ranks", env.world},
                      {"steps", a.steps},
                      {"step_s", timed_s / static_cast<double>(a.steps)},
                      {"tokens_per_s", tokens_per_s},
                      {"student_flops_per_token", student_flops},
                      {"teacher_flops_per_token", teacher_flops},
                      {"model_flops_per_token", flops_per_token},
                      {"achieved_tflops", tflops},  // per rank
                      {"peak_tflops", a.peak_tflops},
                      {"mfu", tflops / a.peak_tflops},
                      {"peak_mem_bytes", hylo::peak_memory_bytes(device)},
                      {"last_loss", loss}};
  if (!a.json.empty()) hylo::write_text_atomically(a.json, r.dump(1) + "\n");
  std::cout << r.dump() << std::endl;
}

void setup_bench_train(CLI::App& root) {
  auto a = std::make_shared<Args>();
  auto* cmd = hylo::cli::bench_group(root)->add_subcommand(
      "train", "Training tokens/s, model TFLOP/s, MFU and peak memory of a random-weight student (one JSON line)");
  cmd->add_option("student", a->student, "Shape (llama-1b-hylo, llama-1b, ...), plan file or config");
  cmd->add_option("--teacher", a->teacher, "Teacher shape or config: a kd step (else CE pretraining)");
  cmd->add_option("--seq-len", a->seq_len, "Tokens per sequence");
  cmd->add_option("--batch", a->batch, "Sequences per step");
  cmd->add_option("--steps", a->steps, "Timed steps");
  cmd->add_option("--warmup", a->warmup, "Untimed steps first");
  cmd->add_option("--device", a->device, "cpu | cuda:N");
  cmd->add_option("--precision", a->precision, "bf16 (autocast, fp32 master weights) | fp32; default bf16 on GPUs");
  cmd->add_flag("--activation-checkpointing", a->recompute, "Recompute each layer in the backward");
  cmd->add_option("--peak-tflops", a->peak_tflops, "Peak TFLOP/s the MFU is taken against (H100 bf16 dense: 790)");
  cmd->add_option("--ops", a->ops, "auto: our GPU kernels where they apply | reference: LibTorch ops only (A/B runs)");
  cmd->add_option("--json", a->json, "Also write the report to this file");
  cmd->add_option("--trace", a->trace, "Profile the timed steps into this Chrome trace (bench/trace_summary.py reads it)");
  cmd->add_option("--nproc", a->nproc, "Data-parallel ranks on the CPU (Gloo)");
  cmd->add_option("--gpus", a->gpus, "Data-parallel ranks on these GPUs (NCCL), e.g. 0,1");
  cmd->callback([a] { run(*a); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_bench_train);
