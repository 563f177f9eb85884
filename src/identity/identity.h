// The identity module's front door: from an IdentityConfig to the users directory and the
// access-token verifier that `cruddur serve` and the CLI use.
//
// Ownership: the caller owns what these return. Thread-safety: both results are safe to share
// between threads (see users_directory.h and jwks_source.h).
#pragma once

#include <memory>

#include "common/status.h"
#include "identity/identity_config.h"
#include "identity/jwks_source.h"
#include "identity/users_directory.h"

namespace cruddur::identity {

// PostgreSQL when config.connection_url is set (it must start with postgresql:// or
// postgres://; anything else is kValidation), else SQLite at <data_dir>/users.sqlite3 (the
// folder is created). Does not migrate. kIo when the store cannot be opened or reached.
Result<std::unique_ptr<UsersDirectory>> OpenUsersDirectory(const IdentityConfig& config);

// With a Cognito user pool configured: a verifier for that pool's access tokens (issuer from
// region and pool id, client id required, kValidation if either is missing), fetching the JWKS
// from config.jwks_file, else config.jwks_url, else the pool's well-known URL, lazily on the
// first token. Without a pool: a verifier that trusts only the local issuer in config.data_dir
// (created on first use; see local_issuer.h).
Result<std::unique_ptr<RefreshingJwtVerifier>> MakeAccessTokenVerifier(
    const IdentityConfig& config);

}  // namespace cruddur::identity
