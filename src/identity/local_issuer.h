// The local stand-in for a Cognito user pool, kept in the data folder, for the embedded default
// where there is no Cognito:
//
//   <data dir>/local-cognito/private-key.pem  the signing key (PKCS#8, mode 0600), made on first
//                                             use and kept, so tokens survive restarts
//   <data dir>/local-cognito/jwks.json        its public half, published for verifiers
//   <data dir>/local-cognito/users.json       the pool's users, in the shape of
//                                             `aws cognito-idp list-users` output: each has a
//                                             stable `sub` and a `preferred_username` (the handle)
//
// The seed's flow, locally: `cruddur db update-cognito-user-ids` gives every user without a
// cognito_user_id the sub the local pool holds for their handle (creating it the first time),
// as the seed copies Cognito subs into users.cognito_user_id; `cruddur auth token <handle>` mints
// an access token for that sub. Tokens are trusted only when no Cognito pool is configured.
//
// Ownership: a LocalIssuer holds its key in memory and reads/writes users.json on each call.
// Thread-safety and processes: const calls may run from any thread; SubFor serializes writers
// (in this and other processes: the CLI beside `cruddur serve`) with flock on users.lock, and
// replaces users.json atomically (write + rename). Key creation is race-free across processes
// (the first to link its key file wins; the others load that one).
// Failure modes: kIo for files that cannot be read or written, kValidation for a key or users
// file that is not what it should be, kInternal if OpenSSL fails.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "identity/dev_issuer.h"
#include "identity/jwt.h"
#include "identity/users_directory.h"

namespace cruddur::identity {

// The iss and client_id claims of local tokens. Not a URL: nothing should try to fetch it.
inline constexpr char kLocalIssuer[] = "urn:cruddur:local-user-pool";
inline constexpr char kLocalClientId[] = "cruddur-local";

// users.json larger than this is refused (about 50,000 users).
inline constexpr std::size_t kMaxLocalPoolBytes = 16 << 20;

struct LocalPoolUser {
  std::string username;
  std::string sub;
  std::string preferred_username;
};

class LocalIssuer {
 public:
  // Loads the key from <data_dir>/local-cognito, creating the folder (0700) and the key (0600)
  // on first use, and (re)writes jwks.json when it is missing or stale. Tokens it signs live
  // `token_lifetime_seconds`.
  static Result<LocalIssuer> Open(const std::filesystem::path& data_dir,
                                  std::int64_t token_lifetime_seconds = 3600);

  const DevIssuer& issuer() const { return issuer_; }
  std::filesystem::path jwks_path() const { return dir_ / "jwks.json"; }
  // What a JwtVerifier for local tokens needs (with issuer().JwksJson()).
  static JwtVerifierOptions VerifierOptions();

  // The sub of the pool user whose preferred_username is `handle`, adding that user with a fresh
  // random sub if there is none. The same handle always gets the same sub.
  Result<std::string> SubFor(std::string_view handle) const;

  // Every user in the pool, in the order they were added.
  Result<std::vector<LocalPoolUser>> ListUsers() const;

 private:
  LocalIssuer(std::filesystem::path dir, DevIssuer issuer)
      : dir_(std::move(dir)), issuer_(std::move(issuer)) {}

  std::filesystem::path dir_;
  DevIssuer issuer_;
};

// One user given a cognito_user_id by AssignLocalCognitoUserIds.
struct AssignedCognitoUserId {
  std::string handle;
  std::string sub;
};

// `cruddur db update-cognito-user-ids` for the local pool: every directory user without a
// cognito_user_id gets the local pool's sub for their handle. Users that already have one are
// left alone. Returns the users changed, in handle order. Re-running changes nothing.
Result<std::vector<AssignedCognitoUserId>> AssignLocalCognitoUserIds(UsersDirectory& users,
                                                                     const LocalIssuer& issuer);

// `cruddur auth token <handle>`: an access token for the user's cognito_user_id (assigned from
// the local pool first if the user has none), issued at `now_unix_seconds`.
// kResourceNotFound if no user has that handle.
Result<std::string> MintLocalAccessToken(UsersDirectory& users, const LocalIssuer& issuer,
                                         std::string_view handle, std::int64_t now_unix_seconds);

}  // namespace cruddur::identity
