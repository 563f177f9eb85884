// SQLite store for the users directory.
//
// Why these choices:
// - Unique handle and unique cognito_user_id are constraints in the table itself. The seed's
//   PostgreSQL schema has neither, so its update-cognito-user-ids could map one Cognito sub to
//   several users; here the store refuses it and the caller learns which column collided.
// - The seed script is INSERT ... ON CONFLICT(handle) DO NOTHING, so `db seed` twice leaves
//   four users, not eight.
// - Statements are prepared once and cached; SQLite re-prepares them itself when the schema
//   changes (sqlite3_prepare_v2), and Drop finalizes them so a later Migrate starts clean.
// - created_at is written by SQLite in UTC ISO 8601 with milliseconds, like PostgreSQL's
//   current_timestamp rendered as text, so both stores return the same shape.
#include "identity/sqlite_users_directory.h"

#include <sqlite3.h>

#include <utility>

#include "identity/uuid.h"

namespace cruddur::identity {
namespace {

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS users ("
    " uuid TEXT PRIMARY KEY NOT NULL,"
    " display_name TEXT NOT NULL,"
    " handle TEXT NOT NULL UNIQUE,"
    " email TEXT NOT NULL,"
    " cognito_user_id TEXT UNIQUE,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))";
constexpr char kDropTable[] = "DROP TABLE IF EXISTS users";
constexpr char kInsert[] =
    "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5)"
    " RETURNING uuid, display_name, handle, email, cognito_user_id, created_at";
constexpr char kInsertIfNewHandle[] =
    "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (handle) DO NOTHING";
constexpr char kByHandle[] =
    "SELECT uuid, display_name, handle, email, cognito_user_id, created_at"
    " FROM users WHERE handle = ?1";
constexpr char kShortByHandle[] = "SELECT uuid, handle, display_name FROM users WHERE handle = ?1";
constexpr char kShortByUuid[] = "SELECT uuid, handle, display_name FROM users WHERE uuid = ?1";
constexpr char kAll[] =
    "SELECT uuid, display_name, handle, email, cognito_user_id, created_at"
    " FROM users ORDER BY handle";
constexpr char kUuidFromCognito[] = "SELECT uuid FROM users WHERE cognito_user_id = ?1";
constexpr char kSetCognito[] = "UPDATE users SET cognito_user_id = ?2 WHERE handle = ?1";

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

User UserFromRow(sqlite3_stmt* stmt) {
  User user;
  user.uuid = ColumnText(stmt, 0);
  user.display_name = ColumnText(stmt, 1);
  user.handle = ColumnText(stmt, 2);
  user.email = ColumnText(stmt, 3);
  if (sqlite3_column_type(stmt, 4) != SQLITE_NULL) user.cognito_user_id = ColumnText(stmt, 4);
  user.created_at = ColumnText(stmt, 5);
  return user;
}

// Resets a cached statement when a call is done with it: a statement left mid-result keeps its
// read transaction open and would block writers in other processes.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedReset() { sqlite3_reset(stmt_); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

ShortProfile ShortFromRow(sqlite3_stmt* stmt) {
  return ShortProfile{ColumnText(stmt, 0), ColumnText(stmt, 1), ColumnText(stmt, 2)};
}

}  // namespace

Result<std::unique_ptr<SqliteUsersDirectory>> SqliteUsersDirectory::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open users database " + path + ": " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return IoError(std::move(message));
  }
  sqlite3_extended_result_codes(db, 1);
  // Another process (the CLI beside the server) may hold the write lock for a moment.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqliteUsersDirectory>(new SqliteUsersDirectory(db));
}

SqliteUsersDirectory::SqliteUsersDirectory(sqlite3* db) : db_(db) {}

SqliteUsersDirectory::~SqliteUsersDirectory() {
  FinalizeStatements();
  sqlite3_close(db_);
}

void SqliteUsersDirectory::FinalizeStatements() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  statements_.clear();
}

Status SqliteUsersDirectory::Error(int rc, std::string_view what) {
  std::string detail = sqlite3_errmsg(db_);
  std::string message = std::string(what) + ": " + detail;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    if (detail.find("users.handle") != std::string::npos) {
      return InUseError(std::string(what) + ": handle already in use");
    }
    if (detail.find("users.cognito_user_id") != std::string::npos) {
      return InUseError(std::string(what) + ": cognito_user_id already in use");
    }
  }
  if (detail.rfind("no such table", 0) == 0) {
    return NotFoundError(std::string(what) +
                         ": users table does not exist (run `cruddur db schema-load`)");
  }
  return IoError(std::move(message));
}

Result<sqlite3_stmt*> SqliteUsersDirectory::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, "prepare");
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

Status SqliteUsersDirectory::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return Status::Ok();
}

Status SqliteUsersDirectory::Migrate() {
  std::lock_guard lock(mu_);
  return Exec(kCreateTable);
}

Status SqliteUsersDirectory::Drop() {
  std::lock_guard lock(mu_);
  FinalizeStatements();
  return Exec(kDropTable);
}

Result<User> SqliteUsersDirectory::InsertLocked(const NewUser& user) {
  CRUDDUR_RETURN_IF_ERROR(ValidateNewUser(user));
  CRUDDUR_ASSIGN_OR_RETURN(std::string uuid, NewRandomUuid());
  CRUDDUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(kInsert));
  ScopedReset reset(stmt);
  BindText(stmt, 1, uuid);
  BindText(stmt, 2, user.display_name);
  BindText(stmt, 3, user.handle);
  BindText(stmt, 4, user.email);
  if (user.cognito_user_id) BindText(stmt, 5, *user.cognito_user_id);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) return Error(rc, "create user " + user.handle);
  User stored = UserFromRow(stmt);
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Error(rc, "create user " + user.handle);
  return stored;
}

Result<User> SqliteUsersDirectory::CreateUser(const NewUser& user) {
  std::lock_guard lock(mu_);
  return InsertLocked(user);
}

Result<int> SqliteUsersDirectory::SeedDemoUsers() {
  std::lock_guard lock(mu_);
  CRUDDUR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  int inserted = 0;
  for (const NewUser& user : DemoUsers()) {
    Result<std::string> uuid = NewRandomUuid();
    Result<sqlite3_stmt*> stmt = uuid.ok() ? Prepare(kInsertIfNewHandle) : uuid.TakeStatus();
    if (!stmt.ok()) {
      (void)Exec("ROLLBACK");
      return stmt.TakeStatus();
    }
    ScopedReset reset(*stmt);
    BindText(*stmt, 1, *uuid);
    BindText(*stmt, 2, user.display_name);
    BindText(*stmt, 3, user.handle);
    BindText(*stmt, 4, user.email);
    int rc = sqlite3_step(*stmt);
    if (rc != SQLITE_DONE) {
      Status error = Error(rc, "seed user " + user.handle);
      (void)Exec("ROLLBACK");
      return error;
    }
    inserted += sqlite3_changes(db_);
  }
  CRUDDUR_RETURN_IF_ERROR(Exec("COMMIT"));
  return inserted;
}

Result<User> SqliteUsersDirectory::UserByHandleLocked(std::string_view handle) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(kByHandle));
  ScopedReset reset(stmt);
  BindText(stmt, 1, handle);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return NotFoundError("no user with handle " + std::string(handle));
  if (rc != SQLITE_ROW) return Error(rc, "user by handle");
  return UserFromRow(stmt);
}

Result<User> SqliteUsersDirectory::UserByHandle(std::string_view handle) {
  std::lock_guard lock(mu_);
  return UserByHandleLocked(handle);
}

Result<std::vector<User>> SqliteUsersDirectory::ListUsers() {
  std::lock_guard lock(mu_);
  CRUDDUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(kAll));
  ScopedReset reset(stmt);
  std::vector<User> users;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) users.push_back(UserFromRow(stmt));
  if (rc != SQLITE_DONE) return Error(rc, "list users");
  return users;
}

Result<std::string> SqliteUsersDirectory::UuidFromCognitoUserId(std::string_view cognito_user_id) {
  std::lock_guard lock(mu_);
  CRUDDUR_RETURN_IF_ERROR(ValidateText("cognito_user_id", cognito_user_id, kMaxCognitoUserIdBytes));
  CRUDDUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(kUuidFromCognito));
  ScopedReset reset(stmt);
  BindText(stmt, 1, cognito_user_id);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    return NotFoundError("no user with cognito_user_id " + std::string(cognito_user_id));
  }
  if (rc != SQLITE_ROW) return Error(rc, "uuid from cognito_user_id");
  return ColumnText(stmt, 0);
}

Result<ShortProfile> SqliteUsersDirectory::ShortProfileByHandleLocked(std::string_view handle) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(kShortByHandle));
  ScopedReset reset(stmt);
  BindText(stmt, 1, handle);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return NotFoundError("no user with handle " + std::string(handle));
  if (rc != SQLITE_ROW) return Error(rc, "short profile by handle");
  return ShortFromRow(stmt);
}

Result<ShortProfile> SqliteUsersDirectory::ShortProfileByHandle(std::string_view handle) {
  std::lock_guard lock(mu_);
  return ShortProfileByHandleLocked(handle);
}

Result<MessageUsers> SqliteUsersDirectory::CreateMessageUsers(std::string_view sender_handle,
                                                              std::string_view receiver_handle) {
  std::lock_guard lock(mu_);
  // One read transaction, so a concurrent writer in another process cannot slip between the
  // two lookups.
  CRUDDUR_RETURN_IF_ERROR(Exec("BEGIN"));
  Result<ShortProfile> sender = ShortProfileByHandleLocked(sender_handle);
  Result<ShortProfile> receiver =
      sender.ok() ? ShortProfileByHandleLocked(receiver_handle) : sender.TakeStatus();
  CRUDDUR_RETURN_IF_ERROR(Exec("COMMIT"));
  if (!receiver.ok()) return receiver.TakeStatus();
  return MessageUsers{std::move(*sender), std::move(*receiver)};
}

Result<std::vector<ShortProfile>> SqliteUsersDirectory::UsersByUuids(
    const std::vector<std::string>& uuids) {
  CRUDDUR_RETURN_IF_ERROR(ValidateUuidLookup(uuids));
  std::lock_guard lock(mu_);
  CRUDDUR_RETURN_IF_ERROR(Exec("BEGIN"));
  std::vector<ShortProfile> found;
  Status status;
  for (const std::string& uuid : uuids) {
    Result<sqlite3_stmt*> stmt = Prepare(kShortByUuid);
    if (!stmt.ok()) {
      status = stmt.TakeStatus();
      break;
    }
    ScopedReset reset(*stmt);
    BindText(*stmt, 1, uuid);
    int rc = sqlite3_step(*stmt);
    if (rc == SQLITE_ROW) {
      found.push_back(ShortFromRow(*stmt));
    } else if (rc != SQLITE_DONE) {
      status = Error(rc, "users by uuid");
      break;
    }
  }
  CRUDDUR_RETURN_IF_ERROR(Exec("COMMIT"));
  if (!status.ok()) return status;
  return found;
}

Status SqliteUsersDirectory::SetCognitoUserId(std::string_view handle,
                                              std::string_view cognito_user_id) {
  std::lock_guard lock(mu_);
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_RETURN_IF_ERROR(ValidateText("cognito_user_id", cognito_user_id, kMaxCognitoUserIdBytes));
  CRUDDUR_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(kSetCognito));
  ScopedReset reset(stmt);
  BindText(stmt, 1, handle);
  BindText(stmt, 2, cognito_user_id);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Error(rc, "set cognito_user_id of " + std::string(handle));
  if (sqlite3_changes(db_) == 0) return NotFoundError("no user with handle " + std::string(handle));
  return Status::Ok();
}

}  // namespace cruddur::identity
