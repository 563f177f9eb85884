// The identity module's configuration, read from the environment the way the seed's app reads
// it: AWS_COGNITO_USER_POOL_ID, AWS_COGNITO_USER_POOL_CLIENT_ID, AWS_DEFAULT_REGION (or
// AWS_REGION), CONNECTION_URL, plus overrides of where the pool's JWKS comes from.
//
// With no user pool configured, Cruddur trusts its local issuer (local_issuer.h) instead of
// Cognito; with no CONNECTION_URL, the users directory is SQLite in the data folder.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace cruddur::identity {

// Looks up one environment variable; nullopt when unset. The seam tests replace.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (std::getenv).
EnvLookup ProcessEnvironment();

struct IdentityConfig {
  std::string data_dir = "./data";  // not from the environment: a command-line flag
  std::string connection_url;       // CONNECTION_URL; empty = SQLite
  std::string region;               // AWS_DEFAULT_REGION, else AWS_REGION
  std::string user_pool_id;         // AWS_COGNITO_USER_POOL_ID; empty = local issuer
  std::string client_id;            // AWS_COGNITO_USER_POOL_CLIENT_ID
  std::string jwks_url;             // CRUDDUR_JWKS_URL; default: the pool's well-known URL
  std::string jwks_file;            // CRUDDUR_JWKS_FILE; wins over jwks_url
  std::int64_t jwks_min_refetch_seconds = 60;  // CRUDDUR_JWKS_MIN_REFETCH_SECONDS

  bool UsesCognito() const { return !user_pool_id.empty(); }
  bool UsesPostgres() const { return !connection_url.empty(); }

  // Reads the variables above; unset or empty variables keep the defaults. kValidation when
  // CRUDDUR_JWKS_MIN_REFETCH_SECONDS is not a non-negative integer.
  static Result<IdentityConfig> FromEnvironment(const EnvLookup& env = ProcessEnvironment());
};

}  // namespace cruddur::identity
