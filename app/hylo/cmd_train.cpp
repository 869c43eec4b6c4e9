// `hylo train <recipe.yaml> --student <dir> --out <run dir>`: runs the staged trainer. Progress goes
// to stdout as JSON lines (contracts: step/stage/checkpoint/done/error events), metrics into the
// project store with --project, a progress bar to stderr when it is a terminal. SIGINT/SIGTERM
// finish the step, checkpoint and exit 130. --nproc N / --gpus 0,1 start one process per rank
// (rank 0 alone prints, records and checkpoints); under torchrun the ranks come from its variables.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "app/hylo/command.h"
#include "app/hylo/rank_launcher.h"
#include "core/spec/error.h"
#include "core/train/trainer.h"
#include "projects/store/project_store.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

void emit(const nlohmann::json& j) { std::cout << j.dump() << std::endl; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CliObserver : public hylo::TrainObserver {
 public:
  CliObserver(hylo::store::ProjectStore* store, int64_t run_id) : store_(store), run_id_(run_id) {}

  void on_stage(int64_t idx, const hylo::Stage& s, int64_t start_step, int64_t steps) override {
    emit({{"event", "stage"}, {"idx", idx}, {"kind", hylo::to_string(s.kind)}, {"seq_len", s.seq_len},
          {"steps", steps}});
    if (store_) store_->add_run_stage({run_id_, idx, hylo::to_string(s.kind), start_step});
    stage_end_ = start_step + steps;
  }
  void on_step(const hylo::StepReport& r, int64_t) override {
    emit({{"event", "step"}, {"run", run_id_}, {"stage", r.stage}, {"step", r.step}, {"tokens", r.tokens},
          {"wall_s", r.wall_s}, {"metrics", r.metrics}});
    if (store_) {
      std::vector<hylo::store::MetricRow> rows;
      for (auto& [name, v] : r.metrics) rows.push_back({r.step, r.tokens, r.wall_s, name, v});
      store_->append_metrics(run_id_, rows);
    }
    if (isatty(STDERR_FILENO)) {
      std::fprintf(stderr, "\rstage %lld  step %lld/%lld  loss %.4f  ", static_cast<long long>(r.stage),
                   static_cast<long long>(r.step), static_cast<long long>(stage_end_), r.metrics.at("loss"));
      std::fflush(stderr);
    }
  }
  void on_checkpoint(int64_t step, const std::string& path) override {
    emit({{"event", "checkpoint"}, {"step", step}, {"path", path}});
  }
  void on_log(const std::string& line) override { std::cerr << line << "\n"; }

 private:
  hylo::store::ProjectStore* store_;
  int64_t run_id_;
  int64_t stage_end_ = 0;
};

// Ranks other than 0 only log to stderr.
class QuietObserver : public hylo::TrainObserver {
 public:
  explicit QuietObserver(int rank) : rank_(rank) {}
  void on_log(const std::string& line) override { std::cerr << "rank " << rank_ << ": " << line << "\n"; }

 private:
  int rank_;
};

struct Args {
  hylo::TrainOptions opts;
  std::string project, precision, gpus;
  int nproc = 1;
};

// The command line as started (for the runs table).
std::string own_command_line() {
  std::string out;
  for (auto& a : hylo::cli::own_arguments()) out += (out.empty() ? "" : " ") + a;
  return out;
}

// bf16 autocast by default on GPUs, fp32 on the CPU.
bool bf16_autocast(const std::string& precision, const std::string& device) {
  if (precision.empty()) return device.rfind("cuda", 0) == 0;
  if (precision == "bf16") return true;
  if (precision == "fp32") return false;
  throw hylo::ConfigError("must be fp32 or bf16, not '" + precision + "'", {}, "--precision");
}

int run(Args& a) {
  const std::vector<int> gpus = hylo::cli::parse_gpu_list(a.gpus);
  if (a.nproc < 1) throw hylo::ConfigError("must be >= 1", {}, "--nproc");
  if (!gpus.empty() && a.nproc > 1 && a.nproc != static_cast<int>(gpus.size()))
    throw hylo::ConfigError("--nproc and --gpus disagree on the number of ranks", {}, "--nproc");
  const int ranks = gpus.empty() ? a.nproc : static_cast<int>(gpus.size());
  if (ranks > 1 || !gpus.empty()) {
    if (std::getenv("WORLD_SIZE")) throw hylo::ConfigError("already a rank (WORLD_SIZE is set)", {}, "--nproc");
    return hylo::cli::launch_ranks(hylo::cli::own_arguments(), ranks, gpus);
  }
  a.opts.dist = hylo::dist_env_from_environment();
  // torchrun style: `--device cuda` takes the GPU of the local rank.
  if (a.opts.device == "cuda") a.opts.device = "cuda:" + std::to_string(a.opts.dist.local_rank);
  a.opts.bf16_autocast = bf16_autocast(a.precision, a.opts.device);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  a.opts.stop = &g_stop;
  if (a.opts.dist.rank != 0) {
    QuietObserver quiet(a.opts.dist.rank);
    return hylo::run_training(a.opts, quiet) == hylo::TrainOutcome::Stopped ? 130 : 0;
  }
  const std::string command = own_command_line();

  std::optional<hylo::store::ProjectStore> store;
  int64_t run_id = 0;
  if (!a.project.empty()) {
    store.emplace(hylo::store::ProjectStore::open(a.project, true));
    hylo::store::RunRecord rec;
    rec.recipe_yaml = read_text(a.opts.recipe);
    rec.name = std::filesystem::path(a.opts.out).filename().string() + (a.opts.resume ? " (resumed)" : "");
    rec.command = command;
    run_id = store->add_run(rec);
    store->mark_run_started(run_id, getpid(), command);
    store->set_run_checkpoint_dir(run_id, (std::filesystem::path(a.opts.out) / "checkpoints").string());
  }
  CliObserver obs(store ? &*store : nullptr, run_id);
  try {
    const hylo::TrainOutcome out = hylo::run_training(a.opts, obs);
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    if (out == hylo::TrainOutcome::Stopped) {
      if (store) store->mark_run_ended(run_id, hylo::store::RunState::Stopped, 130, "interrupted by a signal");
      return 130;
    }
    if (store)
      store->mark_run_ended(run_id, hylo::store::RunState::Finished, 0,
                            out == hylo::TrainOutcome::MaxSteps ? "stopped at --max-steps" : "");
    emit({{"event", "done"}});
    return 0;
  } catch (const std::exception& e) {
    emit({{"event", "error"}, {"message", e.what()}});
    if (store) store->mark_run_ended(run_id, hylo::store::RunState::Failed, 1, e.what());
    throw;
  }
}

void setup_train(CLI::App& root) {
  auto a = std::make_shared<Args>();
  auto* cmd = root.add_subcommand("train", "Train a student through a recipe's stages (pretrain, ild, kd, long)");
  cmd->add_option("recipe", a->opts.recipe, "recipe.yaml")->required()->check(CLI::ExistingFile);
  cmd->add_option("--student", a->opts.student, "Student checkpoint folder (a teacher folder for pretrain)")
      ->required();
  cmd->add_option("--teacher", a->opts.teacher, "Teacher checkpoint folder (overrides the recipe)");
  cmd->add_option("--data", a->opts.data, "Token shards: manifest.json or its folder (overrides data.train)");
  cmd->add_option("--out", a->opts.out, "Run folder (checkpoints/, final/)")->required();
  cmd->add_option("--project", a->project, "Project folder: record the run and its metrics");
  cmd->add_flag("--resume", a->opts.resume, "Continue from the newest verified checkpoint in --out");
  cmd->add_option("--device", a->opts.device, "cpu or cuda:N")->default_val("cpu");
  cmd->add_option("--max-steps", a->opts.max_steps, "Stop (with a checkpoint) after this global step");
  cmd->add_option("--loss-chunk", a->opts.loss_chunk_tokens, "Tokens per chunk of the KD/CE loss (0: by memory)");
  cmd->add_option("--precision", a->precision, "Student compute: bf16 (autocast, fp32 master weights) or fp32; "
                                               "default bf16 on GPUs, fp32 on the CPU");
  cmd->add_flag("--activation-checkpointing", a->opts.activation_checkpointing,
                "Recompute each layer in the backward instead of keeping its activations");
  cmd->add_option("--nproc", a->nproc, "Data-parallel processes on this machine (CPU: Gloo)");
  cmd->add_option("--gpus", a->gpus, "Data parallel over these GPUs, one process each (NCCL), e.g. 0,1");
  cmd->callback([a] {
    const int code = run(*a);
    if (code != 0) std::exit(code);
  });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_train);
