// Picking the store and the token issuer from the configuration, as the seed does: its app
// talks to PostgreSQL at CONNECTION_URL and trusts the Cognito pool in AWS_COGNITO_USER_POOL_ID.
// Without those, the embedded default stands in for both (SQLite, the local issuer), and never
// for one while the other is real: a configured pool means local tokens are not trusted.
#include "identity/identity.h"

#include <filesystem>
#include <string_view>

#include "identity/local_issuer.h"
#include "identity/postgres_users_directory.h"
#include "identity/sqlite_users_directory.h"

namespace cruddur::identity {

Result<std::unique_ptr<UsersDirectory>> OpenUsersDirectory(const IdentityConfig& config) {
  if (config.UsesPostgres()) {
    std::string_view url = config.connection_url;
    if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
      return ValidationError("CONNECTION_URL must be a postgresql:// URL");
    }
    CRUDDUR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresUsersDirectory> users,
                             PostgresUsersDirectory::Open({config.connection_url}));
    return std::unique_ptr<UsersDirectory>(std::move(users));
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return IoError("cannot create " + config.data_dir + ": " + ec.message());
  CRUDDUR_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteUsersDirectory> users,
      SqliteUsersDirectory::Open((std::filesystem::path(config.data_dir) / "users.sqlite3")));
  return std::unique_ptr<UsersDirectory>(std::move(users));
}

Result<std::unique_ptr<RefreshingJwtVerifier>> MakeAccessTokenVerifier(
    const IdentityConfig& config) {
  if (!config.UsesCognito()) {
    CRUDDUR_ASSIGN_OR_RETURN(LocalIssuer local, LocalIssuer::Open(config.data_dir));
    std::string jwks = local.issuer().JwksJson();
    return std::make_unique<RefreshingJwtVerifier>(
        RefreshingJwtVerifierOptions{LocalIssuer::VerifierOptions(),
                                     config.jwks_min_refetch_seconds},
        [jwks]() -> Result<std::string> { return jwks; });
  }
  if (config.region.empty()) {
    return ValidationError("AWS_COGNITO_USER_POOL_ID is set but AWS_DEFAULT_REGION is not");
  }
  if (config.client_id.empty()) {
    return ValidationError(
        "AWS_COGNITO_USER_POOL_ID is set but AWS_COGNITO_USER_POOL_CLIENT_ID is not");
  }
  JwksFetcher fetcher;
  if (!config.jwks_file.empty()) {
    fetcher = FileJwksFetcher(config.jwks_file);
  } else if (!config.jwks_url.empty()) {
    fetcher = HttpJwksFetcher(config.jwks_url);
  } else {
    fetcher = HttpJwksFetcher(CognitoJwksUrl(config.region, config.user_pool_id));
  }
  JwtVerifierOptions options{CognitoIssuer(config.region, config.user_pool_id), config.client_id,
                             60};
  return std::make_unique<RefreshingJwtVerifier>(
      RefreshingJwtVerifierOptions{std::move(options), config.jwks_min_refetch_seconds},
      std::move(fetcher));
}

}  // namespace cruddur::identity
