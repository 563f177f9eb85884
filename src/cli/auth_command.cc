// `cruddur auth token`: the local stand-in for signing in through Cognito's hosted UI.
#include "cli/auth_command.h"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "identity/identity.h"
#include "identity/local_issuer.h"

namespace cruddur::cli {
namespace {

struct TokenOptions {
  std::string handle;
  std::string data_dir = "./data";
  std::string connection_url;
  // Cognito's access-token validity: 5 minutes to 1 day, 1 hour by default.
  std::int64_t ttl_seconds = 3600;
};

[[noreturn]] void Fail(const Status& status) {
  std::cerr << "cruddur auth token: " << status.ToString() << "\n";
  throw CLI::RuntimeError(1);
}

void Token(const TokenOptions& options) {
  Result<identity::IdentityConfig> config = identity::IdentityConfig::FromEnvironment();
  if (!config.ok()) Fail(config.status());
  config->data_dir = options.data_dir;
  if (!options.connection_url.empty()) config->connection_url = options.connection_url;
  if (config->UsesCognito()) {
    std::cerr << "cruddur auth token: AWS_COGNITO_USER_POOL_ID is set, so `cruddur serve` "
                 "will not trust this local token\n";
  }
  Result<std::unique_ptr<identity::UsersDirectory>> users = identity::OpenUsersDirectory(*config);
  if (!users.ok()) Fail(users.status());
  Result<identity::LocalIssuer> issuer =
      identity::LocalIssuer::Open(config->data_dir, options.ttl_seconds);
  if (!issuer.ok()) Fail(issuer.status());
  std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  Result<std::string> token = identity::MintLocalAccessToken(**users, *issuer, options.handle, now);
  if (!token.ok()) Fail(token.status());
  std::cout << *token << "\n";
}

}  // namespace

void AddAuthCommand(CLI::App& app) {
  auto options = std::make_shared<TokenOptions>();
  CLI::App* auth = app.add_subcommand("auth", "Local sign-in: tokens from the local issuer");
  auth->require_subcommand(1);
  CLI::App* token = auth->add_subcommand("token", "Print an access token for a user");
  token->add_option("handle", options->handle, "The user's handle")->required();
  token->add_option("--data-dir", options->data_dir, "Folder of the SQLite store and local pool")
      ->capture_default_str();
  token->add_option("--connection-url", options->connection_url,
                    "postgresql:// URL (default: $CONNECTION_URL; unset = SQLite)");
  token->add_option("--ttl", options->ttl_seconds, "Token lifetime in seconds")
      ->check(CLI::Range(std::int64_t{300}, std::int64_t{86400}))
      ->capture_default_str();
  token->callback([options] { Token(*options); });
}

}  // namespace cruddur::cli
