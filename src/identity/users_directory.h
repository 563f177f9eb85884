// The users directory: Cruddur's `users` table, which maps a Cognito `sub` (cognito_user_id) to a
// user uuid and holds each user's handle and display name. The messaging service asks it who a
// caller is and who the other party of a conversation is; the `cruddur db` commands migrate,
// seed, sync and drop it.
//
// One interface, one implementation per store (SqliteUsersDirectory for the embedded default,
// PostgresUsersDirectory when CONNECTION_URL is set; OpenUsersDirectory in
// open_users_directory.h picks one), so the messaging code never knows which store it talks to.
//
// Thread-safety: every implementation is safe to call from any number of threads at once.
// Failure modes, as Status codes (see common/status.h):
//   kResourceNotFound  the user (handle, uuid, cognito_user_id) does not exist, or the table
//                      does not exist yet (Migrate was not run)
//   kResourceInUse     a unique column (handle, cognito_user_id) already holds the value
//   kValidation        an argument is empty, too long or otherwise malformed
//   kIo                the store failed (file, disk, connection, constraint the caller cannot fix)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cruddur::identity {

// Input bounds, enforced by every implementation before touching the store.
inline constexpr std::size_t kMaxHandleBytes = 64;
inline constexpr std::size_t kMaxDisplayNameBytes = 256;
inline constexpr std::size_t kMaxEmailBytes = 320;  // RFC 5321: 64 local + @ + 255 domain
inline constexpr std::size_t kMaxCognitoUserIdBytes = 128;
inline constexpr std::size_t kMaxUuidBytes = 64;
inline constexpr std::size_t kMaxUuidsPerLookup = 1000;

// A full row of the users table.
struct User {
  std::string uuid;  // lowercase RFC 4122 v4 text, assigned by the directory
  std::string display_name;
  std::string handle;
  std::string email;
  std::optional<std::string> cognito_user_id;  // absent until synced from Cognito
  std::string created_at;                      // UTC, ISO 8601 ("2026-11-24T08:05:14.123Z")
};

// What CreateUser needs; the directory assigns uuid and created_at.
struct NewUser {
  std::string display_name;
  std::string handle;
  std::string email;
  std::optional<std::string> cognito_user_id;
};

// The seed's short profile (GET /api/users/@handle/short and message rows).
struct ShortProfile {
  std::string uuid;
  std::string handle;
  std::string display_name;

  friend bool operator==(const ShortProfile&, const ShortProfile&) = default;
};

// The seed's create_message_users: both parties of a new message.
struct MessageUsers {
  ShortProfile sender;
  ShortProfile receiver;
};

// The seed's four demo users (`cruddur db seed`), in seed order.
const std::vector<NewUser>& DemoUsers();

// The input checks every implementation runs before touching its store (kValidation).
Status ValidateText(std::string_view name, std::string_view value, std::size_t max_bytes);
Status ValidateNewUser(const NewUser& user);
// At most kMaxUuidsPerLookup uuids, each non-empty and at most kMaxUuidBytes.
Status ValidateUuidLookup(const std::vector<std::string>& uuids);

class UsersDirectory {
 public:
  virtual ~UsersDirectory() = default;

  // Creates the users table and its unique indexes if they are missing. Safe to re-run: a
  // second call changes nothing and keeps every row.
  virtual Status Migrate() = 0;

  // Drops the users table and everything in it. Dropping a missing table is not an error.
  virtual Status Drop() = 0;

  // Inserts a user with a fresh uuid and returns the stored row. kResourceInUse when the
  // handle or cognito_user_id is taken.
  virtual Result<User> CreateUser(const NewUser& user) = 0;

  // Inserts each demo user whose handle is not yet present; existing rows are left as they are,
  // so seeding twice leaves four users. Returns how many rows were inserted.
  virtual Result<int> SeedDemoUsers() = 0;

  // Every user, ordered by handle (for `cruddur db update-cognito-user-ids`; the table holds
  // people, not messages, so it is read whole).
  virtual Result<std::vector<User>> ListUsers() = 0;

  // The full row for a handle. kResourceNotFound if there is none.
  virtual Result<User> UserByHandle(std::string_view handle) = 0;

  // The seed's uuid_from_cognito_user_id. kResourceNotFound if no user has that id.
  virtual Result<std::string> UuidFromCognitoUserId(std::string_view cognito_user_id) = 0;

  // The short profile for a handle. kResourceNotFound if there is none.
  virtual Result<ShortProfile> ShortProfileByHandle(std::string_view handle) = 0;

  // Sender and receiver in one consistent read. kResourceNotFound names the missing handle.
  // Sender and receiver may be the same user.
  virtual Result<MessageUsers> CreateMessageUsers(std::string_view sender_handle,
                                                  std::string_view receiver_handle) = 0;

  // Short profiles for the given uuids, in the order asked, skipping uuids with no user and
  // repeating a profile if its uuid is repeated. At most kMaxUuidsPerLookup uuids, each
  // non-empty and at most kMaxUuidBytes.
  virtual Result<std::vector<ShortProfile>> UsersByUuids(const std::vector<std::string>& uuids) = 0;

  // The seed's update_users_with_cognito_user_id: sets the cognito_user_id of the user with
  // this handle. kResourceNotFound if the handle is unknown; kResourceInUse if another user
  // already holds the id. Setting the value a user already has succeeds.
  virtual Status SetCognitoUserId(std::string_view handle, std::string_view cognito_user_id) = 0;
};

}  // namespace cruddur::identity
