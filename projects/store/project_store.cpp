// ProjectStore: opening a project, paths, change detection, size limit and counts.
#include "projects/store/project_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/spec/error.h"
#include "projects/store/schema.h"
#include "projects/store/sqlite_db.h"

namespace fs = std::filesystem;

namespace hylo::store {

ProjectStore ProjectStore::open(const std::string& folder_or_db, bool create) {
  if (folder_or_db.empty()) throw StoreError("no project folder given");
  fs::path given = fs::absolute(folder_or_db).lexically_normal();
  if (given.filename().empty()) given = given.parent_path();  // "dir/" -> "dir"
  std::error_code ec;
  bool names_db = fs::is_regular_file(given, ec) || (!fs::exists(given, ec) && given.extension() == ".db");
  fs::path folder = names_db ? given.parent_path() : given;
  fs::path file = names_db ? given : given / kDbName;

  if (!fs::exists(folder, ec)) {
    if (!create) throw StoreError("no such project folder", folder.string());
    fs::create_directories(folder, ec);
    if (ec) throw StoreError("cannot create the project folder: " + ec.message(), folder.string());
  } else if (!fs::is_directory(folder, ec)) {
    throw StoreError("not a folder", folder.string());
  }
  if (!create && !fs::exists(file, ec)) throw StoreError("not a project folder (no project.db)", file.string());
  auto db = std::make_unique<Db>(file.string(), create);
  int version = migrate(*db);
  return ProjectStore(std::move(db), folder.string(), version);
}

ProjectStore::ProjectStore(std::unique_ptr<Db> db, std::string folder, int schema_version)
    : db_(std::move(db)), folder_(std::move(folder)), schema_version_(schema_version) {}
ProjectStore::ProjectStore(ProjectStore&&) noexcept = default;
ProjectStore& ProjectStore::operator=(ProjectStore&&) noexcept = default;
ProjectStore::~ProjectStore() = default;

const std::string& ProjectStore::db_file() const { return db_->file(); }

std::int64_t ProjectStore::data_version() {
  Query q(*db_, "PRAGMA data_version", "data_version");
  q.step();
  return q.i64(0);
}

void ProjectStore::limit_size(std::int64_t max_bytes) {
  Query page(*db_, "PRAGMA page_size", "page_size");
  page.step();
  std::int64_t pages = std::max<std::int64_t>(1, max_bytes / page.i64(0));
  db_->exec(("PRAGMA max_page_count = " + std::to_string(pages)).c_str(), "max_page_count");
}

std::string ProjectStore::relative_path(const std::string& path) const {
  if (path.empty()) return path;
  fs::path abs = fs::path(resolve_path(path));
  fs::path rel = abs.lexically_relative(folder_);
  if (rel.empty() || *rel.begin() == "..") {
    // Lexically outside; it may still be inside through a symlink or a different spelling.
    std::error_code ec;
    fs::path real = fs::weakly_canonical(abs, ec);
    fs::path real_folder = fs::weakly_canonical(folder_, ec);
    if (ec) return abs.string();
    rel = real.lexically_relative(real_folder);
    if (rel.empty() || *rel.begin() == "..") return abs.string();
  }
  return rel.generic_string();
}

std::string ProjectStore::resolve_path(const std::string& stored) const {
  if (stored.empty()) return stored;
  fs::path p(stored);
  return (p.is_absolute() ? p : fs::path(folder_) / p).lexically_normal().string();
}

bool ProjectStore::path_exists(const std::string& stored) const {
  std::error_code ec;
  return !stored.empty() && fs::exists(resolve_path(stored), ec);
}

ProjectCounts ProjectStore::counts() {
  Query q(*db_,
          "SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM plans), (SELECT count(*) FROM recipes),"
          " (SELECT count(*) FROM runs), (SELECT count(*) FROM metrics), (SELECT count(*) FROM evals),"
          " (SELECT count(*) FROM notes)",
          "counts");
  q.step();
  return {q.i64(0), q.i64(1), q.i64(2), q.i64(3), q.i64(4), q.i64(5), q.i64(6)};
}

void ProjectStore::require_json(const std::string& json, const char* field) const {
  if (!nlohmann::json::accept(json)) throw StoreError("not valid JSON", db_->file(), field);
}

void ProjectStore::not_found(const char* table, std::int64_t id) const {
  throw StoreError("no row with id " + std::to_string(id), db_->file(), table);
}

}  // namespace hylo::store
