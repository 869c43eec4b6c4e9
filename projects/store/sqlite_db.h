// A thin RAII layer over the SQLite C API for the project store: one connection, cached prepared
// statements, write transactions that wait out other writers, and every failure as a
// hylo::StoreError naming the database file. Internal to hylo_store.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace hylo::store {

class Db {
 public:
  // Opens (or creates) `file`: WAL journal, synchronous=NORMAL, foreign keys on, a busy timeout,
  // then PRAGMA quick_check so a damaged file is refused here rather than mid-run.
  Db(const std::string& file, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  const std::string& file() const { return file_; }
  sqlite3* handle() { return db_; }
  std::int64_t changes() const { return sqlite3_changes64(db_); }  // rows the last write touched
  // Runs one or more statements that return no rows we need (DDL, pragmas, BEGIN/COMMIT).
  void exec(const char* sql, const std::string& field);
  // The prepared statement for `sql`, compiled once per connection.
  sqlite3_stmt* cached(const char* sql, const std::string& field);
  // Throws StoreError with SQLite's message for `rc`; `field` names the table or column.
  [[noreturn]] void fail(int rc, const std::string& field) const;

 private:
  void configure();
  void close();

  std::string file_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// One execution of a cached statement. Resets the statement when it goes out of scope, so a
// half-read SELECT never keeps a WAL read snapshot open (that would hide other writers' commits).
class Query {
 public:
  Query(Db& db, const char* sql, std::string field);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Parameters are numbered from 1, as in SQL text.
  Query& bind(int i, std::int64_t v);
  Query& bind(int i, double v);  // NaN is stored as NULL: SQLite has no NaN
  Query& bind(int i, const std::string& v);
  Query& bind(int i, const std::optional<std::int64_t>& v);
  Query& bind_null(int i);

  bool step();  // true while a row is ready
  void run();   // steps a statement that returns no rows

  std::int64_t i64(int col) const;
  double f64(int col) const;  // NULL reads back as NaN
  std::string text(int col) const;
  std::optional<std::int64_t> opt_i64(int col) const;
  // Decodes an enum column with `parse`; a value this build does not know is a StoreError.
  template <typename Parse>
  auto decoded(int col, Parse parse) const {
    std::string s = text(col);
    auto v = parse(s);
    if (!v) unknown_value(col, s);
    return *v;
  }

 private:
  [[noreturn]] void unknown_value(int col, const std::string& value) const;

  Db& db_;
  sqlite3_stmt* stmt_;
  std::string field_;
};

// BEGIN IMMEDIATE ... COMMIT. Taking the write lock up front means a writer waits for another
// writer at BEGIN (busy timeout, then a few retries) instead of failing half-way. Rolls back
// unless commit() ran.
class WriteTransaction {
 public:
  explicit WriteTransaction(Db& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace hylo::store
