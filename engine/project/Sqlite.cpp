#include "project/Sqlite.hpp"

#include <sqlite3.h>

#include "core/Error.hpp"

namespace taxon::project {

namespace {

// SQLite's message for the last error, with the system's reason when a file operation failed:
// "disk I/O error" alone does not say that the disk is full.
std::string errorText(sqlite3* db, const char* message) {
  std::string text = message != nullptr ? message : "unknown error";
  const int primary = sqlite3_errcode(db) & 0xff;
  const int systemErrno = sqlite3_system_errno(db);
  if ((primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN) &&
      systemErrno != 0) {
    text += " (" + core::errnoText(systemErrno) + ")";
  }
  return text;
}

}  // namespace

Database::Database(const std::filesystem::path& file, bool create) : file_(file) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? errorText(db_, sqlite3_errmsg(db_)) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    core::throwFileError(file, "cannot open the catalog: " + message);
  }
  sqlite3_busy_timeout(db_, 10000);
  exec("PRAGMA journal_mode=WAL");
  // FULL: a committed label edit survives the process dying a moment later (and power loss).
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
}

Database::~Database() {
  sqlite3_close_v2(db_);
}

void Database::fail(const std::string& what) const {
  core::throwFileError(file_, what + ": " + errorText(db_, sqlite3_errmsg(db_)));
}

void Database::exec(std::string_view sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = errorText(db_, error);
    sqlite3_free(error);
    core::throwFileError(
        file_, "catalog query failed (" + std::string(sql.substr(0, 60)) + "): " + message);
  }
}

std::int64_t Database::lastInsertId() const {
  return sqlite3_last_insert_rowid(db_);
}
int Database::changes() const {
  return sqlite3_changes(db_);
}

Statement::Statement(Database& db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
      SQLITE_OK) {
    db.fail("cannot prepare a catalog query");
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
    db_.fail("cannot bind a query parameter");
  }
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) {
    db_.fail("cannot bind a query parameter");
  }
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK) {
    db_.fail("cannot bind a query parameter");
  }
  return *this;
}

Statement& Statement::bindNull(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) {
    db_.fail("cannot bind a query parameter");
  }
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  const std::string message = errorText(db_.handle(), sqlite3_errmsg(db_.handle()));
  sqlite3_reset(stmt_);
  core::throwFileError(db_.file(), "catalog query failed: " + message);
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double Statement::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}
bool Statement::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::string Statement::text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}

Transaction::Transaction(Database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {  // a destructor must not throw; the connection reports the next error
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace taxon::project
