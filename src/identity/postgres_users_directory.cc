// PostgreSQL store for the users directory.
//
// Why these choices:
// - The table is the seed's (uuid UUID primary key, display_name, handle, email,
//   cognito_user_id, created_at); the unique indexes are separate CREATE UNIQUE INDEX IF NOT
//   EXISTS statements, so Migrate also upgrades a table the seed's schema.sql made (as long as it
//   holds no duplicates, which the index creation reports). The seed has no unique constraints,
//   so its update-cognito-user-ids could map one Cognito sub to several users.
// - Migrate runs under a transaction-scoped advisory lock: two processes migrating at once
//   would otherwise race inside CREATE TABLE IF NOT EXISTS and one would fail on the catalog's
//   own unique index.
// - uuids are generated here (identity/uuid.h), not by uuid_generate_v4(), so no extension is
//   needed and both stores make them the same way. Lookups by uuid skip text that is not a
//   canonical uuid instead of sending it: PostgreSQL would reject it as invalid input for type
//   uuid where SQLite simply finds no row.
// - created_at is TIMESTAMPTZ rendered by to_char in the session's UTC zone with milliseconds,
//   the same text SQLite stores.
// - Each multi-row read is one statement, so it sees one snapshot: the seed's
//   create_message_users is a single SELECT ... WHERE handle IN (...) too.
#include "identity/postgres_users_directory.h"

#include <map>
#include <utility>

#include "identity/uuid.h"

namespace cruddur::identity {
namespace {

// An arbitrary constant naming "users table migration" among advisory locks.
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7431562260193046114)";
constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS users ("
    " uuid UUID PRIMARY KEY,"
    " display_name TEXT NOT NULL,"
    " handle TEXT NOT NULL,"
    " email TEXT NOT NULL,"
    " cognito_user_id TEXT,"
    " created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)";
constexpr char kHandleIndex[] =
    "CREATE UNIQUE INDEX IF NOT EXISTS users_handle_key ON users (handle)";
constexpr char kCognitoIndex[] =
    "CREATE UNIQUE INDEX IF NOT EXISTS users_cognito_user_id_key ON users (cognito_user_id)";
constexpr char kDropTable[] = "DROP TABLE IF EXISTS users";

#define CRUDDUR_USER_COLUMNS                                   \
  "uuid::text, display_name, handle, email, cognito_user_id, " \
  "to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

constexpr char kInsert[] =
    "INSERT INTO users (uuid, display_name, handle, email, cognito_user_id)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING " CRUDDUR_USER_COLUMNS;
constexpr char kSeed[] =
    "INSERT INTO users (uuid, display_name, handle, email) VALUES"
    " ($1, $2, $3, $4), ($5, $6, $7, $8), ($9, $10, $11, $12), ($13, $14, $15, $16)"
    " ON CONFLICT (handle) DO NOTHING";
constexpr char kAll[] = "SELECT " CRUDDUR_USER_COLUMNS " FROM users ORDER BY handle";
constexpr char kByHandle[] = "SELECT " CRUDDUR_USER_COLUMNS " FROM users WHERE handle = $1";
constexpr char kShortByHandle[] =
    "SELECT uuid::text, handle, display_name FROM users WHERE handle = $1";
constexpr char kShortByTwoHandles[] =
    "SELECT uuid::text, handle, display_name FROM users WHERE handle IN ($1, $2)";
constexpr char kShortByUuids[] =
    "SELECT uuid::text, handle, display_name FROM users WHERE uuid = ANY ($1::uuid[])";
constexpr char kUuidFromCognito[] = "SELECT uuid::text FROM users WHERE cognito_user_id = $1";
constexpr char kSetCognito[] = "UPDATE users SET cognito_user_id = $2 WHERE handle = $1";

#undef CRUDDUR_USER_COLUMNS

constexpr char kUniqueViolation[] = "23505";
constexpr char kUndefinedTable[] = "42P01";

User UserFromRow(const pg::PgResult& result, int row) {
  User user;
  user.uuid = result.Text(row, 0);
  user.display_name = result.Text(row, 1);
  user.handle = result.Text(row, 2);
  user.email = result.Text(row, 3);
  if (!result.IsNull(row, 4)) user.cognito_user_id = result.Text(row, 4);
  user.created_at = result.Text(row, 5);
  return user;
}

ShortProfile ShortFromRow(const pg::PgResult& result, int row) {
  return ShortProfile{result.Text(row, 0), result.Text(row, 1), result.Text(row, 2)};
}

std::string NoHandle(std::string_view handle) {
  return "no user with handle " + std::string(handle);
}

}  // namespace

Result<std::unique_ptr<PostgresUsersDirectory>> PostgresUsersDirectory::Open(
    PostgresUsersDirectoryOptions options) {
  CRUDDUR_ASSIGN_OR_RETURN(
      std::unique_ptr<pg::PgPool> pool,
      pg::PgPool::Create({std::move(options.connection_url), options.max_connections}));
  return std::unique_ptr<PostgresUsersDirectory>(new PostgresUsersDirectory(std::move(pool)));
}

Result<pg::PgResult> PostgresUsersDirectory::Run(
    std::string_view what, const char* sql, const std::vector<std::optional<std::string>>& params) {
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgPool::Lease conn, pool_->Acquire());
  pg::PgError error;
  Result<pg::PgResult> result = conn->Exec(sql, params, &error);
  if (result.ok()) return result;
  if (error.sqlstate == kUniqueViolation) {
    if (error.constraint == "users_handle_key") {
      return InUseError(std::string(what) + ": handle already in use");
    }
    if (error.constraint == "users_cognito_user_id_key") {
      return InUseError(std::string(what) + ": cognito_user_id already in use");
    }
  }
  if (error.sqlstate == kUndefinedTable) {
    return NotFoundError(std::string(what) +
                         ": users table does not exist (run `cruddur db schema-load`)");
  }
  return IoError(std::string(what) + ": " + result.status().message());
}

Status PostgresUsersDirectory::Migrate() {
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgPool::Lease conn, pool_->Acquire());
  // A statement that fails leaves the transaction aborted; the pool then drops the connection
  // instead of reusing it (PgConnection::Reusable), which also ends the transaction.
  for (const char* sql :
       {"BEGIN", kMigrationLock, kCreateTable, kHandleIndex, kCognitoIndex, "COMMIT"}) {
    Result<pg::PgResult> done = conn->Exec(sql);
    if (!done.ok()) return IoError("migrate users: " + done.status().message());
  }
  return Status::Ok();
}

Status PostgresUsersDirectory::Drop() { return Run("drop users", kDropTable, {}).TakeStatus(); }

Result<User> PostgresUsersDirectory::CreateUser(const NewUser& user) {
  CRUDDUR_RETURN_IF_ERROR(ValidateNewUser(user));
  CRUDDUR_ASSIGN_OR_RETURN(std::string uuid, NewRandomUuid());
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result, Run("create user " + user.handle, kInsert,
                                                    {uuid, user.display_name, user.handle,
                                                     user.email, user.cognito_user_id}));
  if (result.rows() != 1) return IoError("create user " + user.handle + ": no row returned");
  return UserFromRow(result, 0);
}

Result<int> PostgresUsersDirectory::SeedDemoUsers() {
  std::vector<std::optional<std::string>> params;
  for (const NewUser& user : DemoUsers()) {
    CRUDDUR_ASSIGN_OR_RETURN(std::string uuid, NewRandomUuid());
    params.insert(params.end(), {uuid, user.display_name, user.handle, user.email});
  }
  // kSeed has one VALUES row per demo user; a fifth user would need a fifth row.
  if (params.size() != 16) return InternalError("seed statement expects four demo users");
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result, Run("seed users", kSeed, params));
  return result.AffectedRows();
}

Result<std::vector<User>> PostgresUsersDirectory::ListUsers() {
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result, Run("list users", kAll, {}));
  std::vector<User> users;
  users.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) users.push_back(UserFromRow(result, row));
  return users;
}

Result<User> PostgresUsersDirectory::UserByHandle(std::string_view handle) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result,
                           Run("user by handle", kByHandle, {std::string(handle)}));
  if (result.rows() == 0) return NotFoundError(NoHandle(handle));
  return UserFromRow(result, 0);
}

Result<std::string> PostgresUsersDirectory::UuidFromCognitoUserId(
    std::string_view cognito_user_id) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("cognito_user_id", cognito_user_id, kMaxCognitoUserIdBytes));
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result, Run("uuid from cognito_user_id", kUuidFromCognito,
                                                    {std::string(cognito_user_id)}));
  if (result.rows() == 0) {
    return NotFoundError("no user with cognito_user_id " + std::string(cognito_user_id));
  }
  return result.Text(0, 0);
}

Result<ShortProfile> PostgresUsersDirectory::ShortProfileByHandle(std::string_view handle) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result,
                           Run("short profile by handle", kShortByHandle, {std::string(handle)}));
  if (result.rows() == 0) return NotFoundError(NoHandle(handle));
  return ShortFromRow(result, 0);
}

Result<MessageUsers> PostgresUsersDirectory::CreateMessageUsers(std::string_view sender_handle,
                                                                std::string_view receiver_handle) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", sender_handle, kMaxHandleBytes));
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", receiver_handle, kMaxHandleBytes));
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result,
                           Run("message users", kShortByTwoHandles,
                               {std::string(sender_handle), std::string(receiver_handle)}));
  std::optional<ShortProfile> sender;
  std::optional<ShortProfile> receiver;
  for (int row = 0; row < result.rows(); ++row) {
    ShortProfile profile = ShortFromRow(result, row);
    if (profile.handle == sender_handle) sender = profile;
    if (profile.handle == receiver_handle) receiver = profile;
  }
  if (!sender) return NotFoundError(NoHandle(sender_handle));
  if (!receiver) return NotFoundError(NoHandle(receiver_handle));
  return MessageUsers{std::move(*sender), std::move(*receiver)};
}

Result<std::vector<ShortProfile>> PostgresUsersDirectory::UsersByUuids(
    const std::vector<std::string>& uuids) {
  CRUDDUR_RETURN_IF_ERROR(ValidateUuidLookup(uuids));
  // A PostgreSQL array literal of canonical uuids: they hold only hex digits and hyphens, so
  // nothing needs quoting. It is still sent as a parameter, never as SQL.
  std::string array = "{";
  for (const std::string& uuid : uuids) {
    if (!IsCanonicalUuid(uuid)) continue;
    if (array.size() > 1) array += ',';
    array += uuid;
  }
  array += '}';
  std::vector<ShortProfile> found;
  if (array.size() == 2) return found;
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result, Run("users by uuid", kShortByUuids, {array}));
  std::map<std::string, ShortProfile, std::less<>> by_uuid;
  for (int row = 0; row < result.rows(); ++row) {
    ShortProfile profile = ShortFromRow(result, row);
    std::string key = profile.uuid;
    by_uuid.emplace(std::move(key), std::move(profile));
  }
  for (const std::string& uuid : uuids) {
    auto it = by_uuid.find(uuid);
    if (it != by_uuid.end()) found.push_back(it->second);
  }
  return found;
}

Status PostgresUsersDirectory::SetCognitoUserId(std::string_view handle,
                                                std::string_view cognito_user_id) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_RETURN_IF_ERROR(ValidateText("cognito_user_id", cognito_user_id, kMaxCognitoUserIdBytes));
  CRUDDUR_ASSIGN_OR_RETURN(pg::PgResult result,
                           Run("set cognito_user_id of " + std::string(handle), kSetCognito,
                               {std::string(handle), std::string(cognito_user_id)}));
  if (result.AffectedRows() == 0) return NotFoundError(NoHandle(handle));
  return Status::Ok();
}

}  // namespace cruddur::identity
