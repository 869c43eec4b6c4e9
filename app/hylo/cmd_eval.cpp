// `hylo eval niah|ruler|ppl <model>` (results as JSON / CSV and into a project's evals table) and
// `hylo probe <model>` (one needle probe).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/hylo/command.h"
#include "core/eval/probe.h"
#include "core/eval/runners.h"
#include "core/eval/tasks.h"
#include "core/io/atomic_file.h"
#include "core/spec/error.h"
#include "projects/store/project_store.h"

namespace {

struct EvalArgs {
  std::string model, lengths = "1k,2k,4k", depths = "0:100:10", tasks, project, csv, json, corpus;
  std::string dtype = "fp32", device = "cpu";
  int64_t trials = 3, chunk = 2048, max_new_tokens = 32, documents = 4, length = 4096, first_bucket = 64;
  uint64_t seed = 17;
  bool no_loglik = false;
};

void add_model_options(CLI::App* cmd, EvalArgs& a) {
  cmd->add_option("model", a.model, "Checkpoint folder (config.json, safetensors, tokenizer.json)")->required();
  cmd->add_option("--dtype", a.dtype, "fp32 | bf16 | fp16");
  cmd->add_option("--device", a.device, "cpu | cuda:N");
  cmd->add_option("--chunk", a.chunk, "Prefill chunk in tokens (bounds activation memory)");
}

void add_output_options(CLI::App* cmd, EvalArgs& a) {
  cmd->add_option("--project", a.project, "Project folder: store the result in its evals table");
  cmd->add_option("--csv", a.csv, "Write the result as CSV");
  cmd->add_option("--json", a.json, "Write the result JSON");
  cmd->add_option("--seed", a.seed, "Seed (same seed, same prompts)");
  cmd->add_option("--corpus", a.corpus, "Folder of Brown-corpus files or .txt files (default: the Brown corpus)");
}

hylo::LoadedModel load(const EvalArgs& a) {
  return hylo::load_for_inference(a.model, hylo::parse_dtype(a.dtype, "--dtype"), hylo::parse_device(a.device, "--device"));
}

void progress(int64_t done, int64_t total) {
  std::cerr << "\r" << done << "/" << total << (done == total ? "\n" : "") << std::flush;
}

std::string csv_of(const std::string& kind, const nlohmann::json& r) {
  std::ostringstream os;
  if (kind == "niah") {
    os << "length,depth,score,loglik\n";
    for (size_t i = 0; i < r["lengths"].size(); ++i)
      for (size_t j = 0; j < r["depths"].size(); ++j)
        os << r["lengths"][i] << "," << r["depths"][j] << "," << r["score"][i][j] << ","
           << (r["loglik"][i][j].is_null() ? "" : r["loglik"][i][j].dump()) << "\n";
  } else if (kind == "ruler") {
    os << "task,length,score\n";
    for (size_t k = 0; k < r["tasks"].size(); ++k)
      for (size_t i = 0; i < r["lengths"].size(); ++i)
        os << r["tasks"][k].get<std::string>() << "," << r["lengths"][i] << "," << r["score"][k][i] << "\n";
  } else {
    os << "start,end,loss,tokens\n";
    for (size_t k = 0; k < r["buckets"].size(); ++k)
      os << r["buckets"][k][0] << "," << r["buckets"][k][1] << ","
         << (r["loss"][k].is_null() ? "" : r["loss"][k].dump()) << "," << r["tokens"][k] << "\n";
  }
  return os.str();
}

// The model row of `path` in the store, added (teacher when every layer is attention) when absent.
int64_t model_id(hylo::store::ProjectStore& store, const hylo::LoadedModel& m) {
  const auto abs = std::filesystem::absolute(m.path).lexically_normal().string();
  for (const auto& rec : store.list_models())
    if (std::filesystem::path(store.resolve_path(rec.path)).lexically_normal().string() == abs) return rec.id;
  hylo::store::ModelRecord rec;
  bool teacher = true;
  for (const auto& spec : hylo::layer_specs(m.model->config())) teacher = teacher && spec.kind == hylo::MixerKind::Attention;
  rec.kind = teacher ? hylo::store::ModelKind::Teacher : hylo::store::ModelKind::Student;
  rec.name = std::filesystem::path(abs).filename().string();
  rec.path = store.relative_path(abs);
  return store.add_model(rec);
}

void write_outputs(const std::string& kind, const EvalArgs& a, const hylo::LoadedModel& m, const nlohmann::json& params,
                   const nlohmann::json& result) {
  if (!a.json.empty()) hylo::write_text_atomically(a.json, result.dump(2) + "\n");
  if (!a.csv.empty()) hylo::write_text_atomically(a.csv, csv_of(kind, result));
  if (!a.project.empty()) {
    auto store = hylo::store::ProjectStore::open(a.project, false);
    hylo::store::EvalRecord e;
    e.model_id = model_id(store, m);
    e.kind = *hylo::store::parse_eval_kind(kind);
    e.params_json = params.dump();
    e.result_json = result.dump();
    std::cerr << "stored eval " << store.add_eval(e) << " in " << store.db_file() << "\n";
  }
  if (a.json.empty() && a.csv.empty()) std::cout << result.dump() << "\n";
}

void run_grid(const std::string& kind, const EvalArgs& a) {
  auto m = load(a);
  hylo::RunnerOptions o;
  o.lengths = hylo::parse_lengths(a.lengths);
  o.trials = a.trials;
  o.seed = a.seed;
  o.corpus_dir = a.corpus;
  o.max_new_tokens = a.max_new_tokens;
  o.loglik = !a.no_loglik;
  o.engine.chunk = a.chunk;
  o.engine.cache_dtype = m.dtype;
  o.on_progress = progress;
  nlohmann::json params = {{"lengths", o.lengths}, {"trials", o.trials}, {"seed", o.seed}, {"dtype", a.dtype},
                           {"device", a.device},   {"chunk", a.chunk}};
  nlohmann::json result;
  if (kind == "niah") {
    o.depths = hylo::parse_depths(a.depths);
    o.tasks = {a.tasks.empty() ? "niah_single_2" : a.tasks};
    params["depths"] = o.depths;
    params["task"] = o.tasks.front();
    result = hylo::run_niah(m, o);
  } else {
    o.tasks.clear();
    std::stringstream ss(a.tasks);
    for (std::string t; std::getline(ss, t, ',');)
      if (!t.empty()) o.tasks.push_back(t);
    if (o.tasks.empty()) o.tasks = hylo::task_names();
    params["tasks"] = o.tasks;
    result = hylo::run_ruler(m, o);
  }
  write_outputs(kind, a, m, params, result);
}

void run_ppl(const EvalArgs& a) {
  auto m = load(a);
  hylo::PplOptions o;
  o.length = a.length;
  o.documents = a.documents;
  o.seed = a.seed;
  o.first_bucket = a.first_bucket;
  o.corpus_dir = a.corpus;
  o.engine.chunk = a.chunk;
  o.engine.cache_dtype = m.dtype;
  o.on_progress = progress;
  nlohmann::json params = {{"length", o.length}, {"documents", o.documents}, {"seed", o.seed},
                           {"dtype", a.dtype},   {"device", a.device},       {"chunk", a.chunk}};
  write_outputs("ppl", a, m, params, hylo::run_ppl(m, o));
}

void setup_eval(CLI::App& root) {
  auto* eval = root.add_subcommand("eval", "Long-context evaluations: NIAH heatmap, RULER tasks, perplexity by position");
  eval->require_subcommand(1);
  auto a = std::make_shared<EvalArgs>();

  auto* niah = eval->add_subcommand("niah", "Needle in a haystack: lengths x depths x trials");
  add_model_options(niah, *a);
  niah->add_option("--lengths", a->lengths, "Context lengths, e.g. 1k,2k,...,1M");
  niah->add_option("--depths", a->depths, "Needle depths in %, e.g. 0:100:10");
  niah->add_option("--trials", a->trials, "Needles per cell");
  niah->add_option("--task", a->tasks, "Task (default niah_single_2)");
  niah->add_option("--max-new-tokens", a->max_new_tokens, "Answer tokens");
  niah->add_flag("--no-loglik", a->no_loglik, "Skip the expected answer's log-likelihood (one prefill less)");
  add_output_options(niah, *a);
  niah->callback([a] { run_grid("niah", *a); });

  auto* ruler = eval->add_subcommand("ruler", "RULER-style tasks x lengths");
  add_model_options(ruler, *a);
  ruler->add_option("--lengths", a->lengths, "Context lengths, e.g. 4k,8k,16k");
  ruler->add_option("--trials", a->trials, "Samples per task and length");
  ruler->add_option("--task,--tasks", a->tasks, "Comma-separated tasks (default: all)");
  ruler->add_option("--max-new-tokens", a->max_new_tokens, "Answer tokens");
  add_output_options(ruler, *a);
  ruler->callback([a] { run_grid("ruler", *a); });

  auto* ppl = eval->add_subcommand("ppl", "Mean loss per position bucket over long documents");
  add_model_options(ppl, *a);
  ppl->add_option("--length", a->length, "Tokens per document");
  ppl->add_option("--documents", a->documents, "Documents");
  ppl->add_option("--first-bucket", a->first_bucket, "First bucket size; buckets double");
  add_output_options(ppl, *a);
  ppl->callback([a] { run_ppl(*a); });
}

struct ProbeArgs {
  EvalArgs common;
  hylo::ProbeRequest request;
  std::string haystack_file;
};

void setup_probe(CLI::App& root) {
  auto p = std::make_shared<ProbeArgs>();
  auto* cmd = root.add_subcommand("probe", "One needle probe: answer, loss by position, memory, time (JSON)");
  add_model_options(cmd, p->common);
  cmd->add_option("--needle", p->request.needle, "Needle sentence")->required();
  cmd->add_option("--question", p->request.question, "Question asked after the haystack")->required();
  cmd->add_option("--answer", p->request.answer, "Expected answer (sets 'found')");
  cmd->add_option("--depth", p->request.depth, "Needle depth in % (0-100)");
  cmd->add_option("--length", p->request.length, "Prompt tokens");
  cmd->add_option("--max-new-tokens", p->request.max_new_tokens, "Answer tokens");
  cmd->add_option("--haystack", p->haystack_file, "Haystack text file (default: the Brown corpus)");
  cmd->add_option("--corpus", p->request.corpus_dir, "Brown corpus folder");
  cmd->callback([p] {
    auto m = load(p->common);
    auto r = p->request;
    if (!p->haystack_file.empty()) {
      std::ifstream in(p->haystack_file, std::ios::binary);
      if (!in) throw hylo::EvalError("cannot read the haystack file", p->haystack_file, "haystack");
      std::ostringstream ss;
      ss << in.rdbuf();
      r.haystack = ss.str();
      if (r.haystack.empty()) throw hylo::EvalError("the haystack file is empty", p->haystack_file, "haystack");
    }
    r.engine.chunk = p->common.chunk;
    r.engine.cache_dtype = m.dtype;
    std::cout << hylo::to_json(hylo::run_probe(m, r, progress)).dump() << "\n";
  });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_eval);
HYLO_REGISTER_COMMAND(setup_probe);
