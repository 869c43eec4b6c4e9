#include "projects/store/sqlite_db.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "core/spec/error.h"

namespace hylo::store {

namespace {
constexpr int kBusyTimeoutMs = 5000;
// After the busy timeout, BEGIN is tried this many more times: a trainer committing a large
// batch on a slow disk must not make the GUI (or a second writer) fail with "database is locked".
constexpr int kBeginRetries = 3;
}  // namespace

Db::Db(const std::string& file, bool create) : file_(file) {
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(file.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open: " + msg, file_);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    configure();
  } catch (...) {
    close();
    throw;
  }
}

void Db::configure() {
  {
    // journal_mode is the first read of the header: a file that is not SQLite fails here.
    Query wal(*this, "PRAGMA journal_mode=WAL", "journal_mode");
    if (!wal.step() || wal.text(0) != "wal")
      throw StoreError("cannot switch to WAL journal (a network file system?)", file_, "journal_mode");
  }
  exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", "pragma");
  Query check(*this, "PRAGMA quick_check", "quick_check");
  if (check.step() && check.text(0) != "ok")
    throw StoreError("database is damaged: " + check.text(0), file_, "quick_check");
}

void Db::close() {
  for (auto& s : statements_) sqlite3_finalize(s.second);
  statements_.clear();
  sqlite3_close(db_);
  db_ = nullptr;
}

Db::~Db() { close(); }

void Db::exec(const char* sql, const std::string& field) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return;
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  throw StoreError(msg, file_, field);
}

sqlite3_stmt* Db::cached(const char* sql, const std::string& field) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, field);
  statements_.emplace(sql, stmt);
  return stmt;
}

void Db::fail(int rc, const std::string& field) const {
  // sqlite3_errmsg describes the latest call on this connection; fall back to the code's text
  // when that call was not the one that failed.
  std::string msg = sqlite3_extended_errcode(db_) == rc ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_FULL) msg += " (disk full or size limit reached)";
  throw StoreError(msg, file_, field);
}

Query::Query(Db& db, const char* sql, std::string field)
    : db_(db), stmt_(db.cached(sql, field)), field_(std::move(field)) {}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, field_);
  return *this;
}

Query& Query::bind(int i, double v) {
  if (std::isnan(v)) return bind_null(i);
  int rc = sqlite3_bind_double(stmt_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, field_);
  return *this;
}

Query& Query::bind(int i, const std::string& v) {
  int rc = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_.fail(rc, field_);
  return *this;
}

Query& Query::bind(int i, const std::optional<std::int64_t>& v) { return v ? bind(i, *v) : bind_null(i); }

Query& Query::bind_null(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) db_.fail(rc, field_);
  return *this;
}

bool Query::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, field_);
}

void Query::run() {
  while (step()) {
  }
}

std::int64_t Query::i64(int col) const { return sqlite3_column_int64(stmt_, col); }

double Query::f64(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, col);
}

std::string Query::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

std::optional<std::int64_t> Query::opt_i64(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, col);
}

void Query::unknown_value(int col, const std::string& value) const {
  const char* column = sqlite3_column_name(stmt_, col);
  throw StoreError("unknown value '" + value + "'", db_.file(), field_ + "." + (column ? column : "?"));
}

WriteTransaction::WriteTransaction(Db& db) : db_(db) {
  for (int attempt = 0;; ++attempt) {
    int rc = sqlite3_exec(db_.handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc & 0xff) != SQLITE_BUSY || attempt == kBeginRetries) {
      if ((rc & 0xff) == SQLITE_BUSY)
        throw StoreError("database is locked: another process held the write lock for " +
                             std::to_string((kBeginRetries + 1) * kBusyTimeoutMs / 1000) + " s",
                         db_.file(), "transaction");
      db_.fail(rc, "transaction");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * (attempt + 1)));
  }
}

WriteTransaction::~WriteTransaction() {
  // SQLite may already have rolled back (e.g. after SQLITE_FULL): only roll back what is open.
  if (!done_ && !sqlite3_get_autocommit(db_.handle()))
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit() {
  // In WAL a COMMIT can still meet SQLITE_BUSY (a checkpoint in progress); it keeps the
  // transaction open, so retrying is safe.
  for (int attempt = 0;; ++attempt) {
    int rc = sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) break;
    if ((rc & 0xff) != SQLITE_BUSY || attempt == kBeginRetries) db_.fail(rc, "commit");
  }
  done_ = true;
}

}  // namespace hylo::store
