// `hylo runs [--project <folder>]`: the project's training runs with state, last step and last loss.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/hylo/command.h"
#include "projects/store/project_store.h"

using namespace hylo::store;

static nlohmann::json optional_json(const std::optional<std::int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

static void list_runs(const std::string& folder) {
  auto store = ProjectStore::open(folder, false);
  auto runs = store.run_summaries();
  if (hylo::cli::global_options().json) {
    nlohmann::json out = nlohmann::json::array();
    for (auto& s : runs) {
      const RunRecord& r = s.run;
      out.push_back({{"id", r.id}, {"name", r.name}, {"state", to_string(r.state)}, {"pid", optional_json(r.pid)},
                     {"plan_id", optional_json(r.plan_id)}, {"command", r.command}, {"started", r.started},
                     {"ended", r.ended}, {"exit_code", optional_json(r.exit_code)},
                     {"checkpoint_dir", r.checkpoint_dir}, {"message", r.message},
                     {"last_step", optional_json(s.last_step)},
                     // NaN (a diverged loss) has no JSON form: null, like a missing loss.
                     {"last_loss", s.last_loss && !std::isnan(*s.last_loss) ? nlohmann::json(*s.last_loss)
                                                                              : nlohmann::json()}});
    }
    std::cout << out.dump() << "\n";
    return;
  }
  if (runs.empty()) {
    std::printf("no runs in %s\n", store.folder().c_str());
    return;
  }
  std::printf("%5s  %-20s %-9s %8s %10s %12s  %-20s %s\n", "id", "name", "state", "pid", "step", "loss", "started",
              "exit / message");
  for (auto& s : runs) {
    const RunRecord& r = s.run;
    std::string step = s.last_step ? std::to_string(*s.last_step) : "-";
    char loss[32] = "-";
    if (s.last_loss) std::snprintf(loss, sizeof loss, "%.5g", *s.last_loss);
    std::string end = r.exit_code ? std::to_string(*r.exit_code) : "";
    if (!r.message.empty()) end += (end.empty() ? "" : " ") + r.message;
    std::printf("%5lld  %-20s %-9s %8s %10s %12s  %-20s %s\n", static_cast<long long>(r.id), r.name.c_str(),
                to_string(r.state), r.pid ? std::to_string(*r.pid).c_str() : "-", step.c_str(), loss,
                r.started.empty() ? "-" : r.started.c_str(), end.c_str());
  }
}

static void setup_runs(CLI::App& root) {
  auto folder = std::make_shared<std::string>(".");
  auto* cmd = root.add_subcommand("runs", "List a project's training runs: state, last step, last loss");
  cmd->add_option("--project", *folder, "Project folder or its project.db (default: the current folder)");
  cmd->callback([folder] { list_runs(*folder); });
}
HYLO_REGISTER_COMMAND(setup_runs);
