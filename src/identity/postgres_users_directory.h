// The users directory on PostgreSQL (libpq), for when CONNECTION_URL names a server: the seed's
// `public.users` table, plus the unique indexes the seed lacks.
//
// Ownership: the object owns a bounded pool of connections (postgres.h); destroying it closes
// them. Thread-safety: every call may run from any number of threads at once; each borrows a
// connection for the duration of the call, and calls wait when all are in use.
// Failure modes: as UsersDirectory; kIo also for a lost connection or an exhausted pool.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "identity/postgres.h"
#include "identity/users_directory.h"

namespace cruddur::identity {

struct PostgresUsersDirectoryOptions {
  std::string connection_url;  // postgresql://user:password@host:port/db?... or a conninfo
  std::size_t max_connections = 8;
};

class PostgresUsersDirectory final : public UsersDirectory {
 public:
  // Connects once (kIo if the server cannot be reached or refuses). Does not create the
  // table: call Migrate.
  static Result<std::unique_ptr<PostgresUsersDirectory>> Open(
      PostgresUsersDirectoryOptions options);

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
  explicit PostgresUsersDirectory(std::unique_ptr<pg::PgPool> pool) : pool_(std::move(pool)) {}

  // Borrows a connection and runs one statement; failures become directory Statuses naming
  // `what` (unique violations -> kResourceInUse, missing table -> kResourceNotFound).
  Result<pg::PgResult> Run(std::string_view what, const char* sql,
                           const std::vector<std::optional<std::string>>& params);

  std::unique_ptr<pg::PgPool> pool_;
};

}  // namespace cruddur::identity
