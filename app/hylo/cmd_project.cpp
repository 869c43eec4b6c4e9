// `hylo project init <folder>`: make a project folder with project.db (or upgrade an older one).
// `hylo project show <folder>`: what a project holds: counts, models (and whether their files
// are still there), plans.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/hylo/command.h"
#include "projects/store/project_store.h"

using hylo::store::ProjectStore;

static void init_project(const std::string& folder) {
  std::error_code ec;
  bool existed = std::filesystem::exists(std::filesystem::path(folder) / ProjectStore::kDbName, ec);
  auto store = ProjectStore::open(folder, true);
  if (hylo::cli::global_options().json) {
    std::cout << nlohmann::json{{"folder", store.folder()}, {"db", store.db_file()},
                                {"schema_version", store.schema_version()}, {"created", !existed}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("%s %s (schema v%d)\n", existed ? "opened" : "created", store.db_file().c_str(),
              store.schema_version());
}

static void show_project(const std::string& folder) {
  auto store = ProjectStore::open(folder, false);
  auto counts = store.counts();
  auto models = store.list_models();
  auto plans = store.list_plans();
  if (hylo::cli::global_options().json) {
    nlohmann::json out{{"folder", store.folder()},
                       {"db", store.db_file()},
                       {"schema_version", store.schema_version()},
                       {"counts",
                        {{"models", counts.models}, {"plans", counts.plans}, {"recipes", counts.recipes},
                         {"runs", counts.runs}, {"metrics", counts.metrics}, {"evals", counts.evals},
                         {"notes", counts.notes}}},
                       {"models", nlohmann::json::array()},
                       {"plans", nlohmann::json::array()}};
    for (auto& m : models)
      out["models"].push_back({{"id", m.id}, {"kind", hylo::store::to_string(m.kind)}, {"name", m.name},
                               {"path", m.path}, {"resolved", store.resolve_path(m.path)},
                               {"exists", store.path_exists(m.path)}, {"created", m.created}});
    for (auto& p : plans)
      out["plans"].push_back({{"id", p.id}, {"name", p.name},
                              {"model_id", p.model_id ? nlohmann::json(*p.model_id) : nlohmann::json()},
                              {"updated", p.updated}});
    std::cout << out.dump() << "\n";
    return;
  }
  std::printf("project %s (schema v%d)\n", store.folder().c_str(), store.schema_version());
  std::printf("  %lld models, %lld plans, %lld recipes, %lld runs, %lld metrics, %lld evals, %lld notes\n",
              static_cast<long long>(counts.models), static_cast<long long>(counts.plans),
              static_cast<long long>(counts.recipes), static_cast<long long>(counts.runs),
              static_cast<long long>(counts.metrics), static_cast<long long>(counts.evals),
              static_cast<long long>(counts.notes));
  if (!models.empty()) std::printf("models:\n");
  for (auto& m : models)
    std::printf("  %4lld %-10s %-24s %s%s\n", static_cast<long long>(m.id), hylo::store::to_string(m.kind),
                m.name.c_str(), m.path.c_str(), store.path_exists(m.path) ? "" : "  (missing)");
  if (!plans.empty()) std::printf("plans:\n");
  for (auto& p : plans)
    std::printf("  %4lld %-24s model %-6s updated %s\n", static_cast<long long>(p.id), p.name.c_str(),
                p.model_id ? std::to_string(*p.model_id).c_str() : "-", p.updated.empty() ? "-" : p.updated.c_str());
}

static void setup_project(CLI::App& root) {
  auto* cmd = root.add_subcommand("project", "Create or inspect a project folder (project.db)");
  cmd->require_subcommand(1);

  auto init_folder = std::make_shared<std::string>();
  auto* init = cmd->add_subcommand("init", "Create a project folder with an empty project.db, or upgrade one");
  init->add_option("folder", *init_folder, "Project folder")->required();
  init->callback([init_folder] { init_project(*init_folder); });

  auto show_folder = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "Counts, models and plans of a project");
  show->add_option("folder", *show_folder, "Project folder or its project.db")->required();
  show->callback([show_folder] { show_project(*show_folder); });
}
HYLO_REGISTER_COMMAND(setup_project);
