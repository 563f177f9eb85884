// The users directory on SQLite, the embedded default: one database file in the data folder (or
// ":memory:" for a private, process-local database).
//
// Ownership: the object owns its connection and its prepared statements; destroying it closes
// the database. Thread-safety: all calls are serialized by an internal mutex, so one object may
// be shared by every thread of the server. Several processes may open the same file (the CLI
// beside a running server); SQLite's file locking keeps them consistent and a busy timeout
// makes a writer wait for another instead of failing at once.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "identity/users_directory.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cruddur::identity {

class SqliteUsersDirectory final : public UsersDirectory {
 public:
  // Opens (creating if needed) the database at `path`. Does not create the table: call
  // Migrate. kIo if the file cannot be opened.
  static Result<std::unique_ptr<SqliteUsersDirectory>> Open(const std::string& path);

  ~SqliteUsersDirectory() override;
  SqliteUsersDirectory(const SqliteUsersDirectory&) = delete;
  SqliteUsersDirectory& operator=(const SqliteUsersDirectory&) = delete;

  Status Migrate() override;
  Status Drop() override;
  Result<User> CreateUser(const NewUser& user) override;
  Result<int> SeedDemoUsers() override;
  Result<std::vector<User>> ListUsers() override;
  Result<User> UserByHandle(std::string_view handle) override;
  Result<std::string> UuidFromCognitoUserId(std::string_view cognito_user_id) override;
  Result<ShortProfile> ShortProfileByHandle(std::string_view handle) override;
  Result<MessageUsers> CreateMessageUsers(std::string_view sender_handle,
                                          std::string_view receiver_handle) override;
  Result<std::vector<ShortProfile>> UsersByUuids(const std::vector<std::string>& uuids) override;
  Status SetCognitoUserId(std::string_view handle, std::string_view cognito_user_id) override;

 private:
  explicit SqliteUsersDirectory(sqlite3* db);

  // A cached prepared statement for `sql`, reset and with bindings cleared. Requires mu_.
  Result<sqlite3_stmt*> Prepare(const char* sql);
  // Runs statements without results (DDL, BEGIN/COMMIT). Requires mu_.
  Status Exec(const char* sql);
  // Requires mu_.
  Result<User> InsertLocked(const NewUser& user);
  Result<User> UserByHandleLocked(std::string_view handle);
  Result<ShortProfile> ShortProfileByHandleLocked(std::string_view handle);
  // Turns an SQLite result code into a Status naming `what`. Requires mu_.
  Status Error(int rc, std::string_view what);
  void FinalizeStatements();

  std::mutex mu_;
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> statements_;  // keyed by the SQL literal's address
};

}  // namespace cruddur::identity
