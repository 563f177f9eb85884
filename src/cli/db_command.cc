// `cruddur db`: each subcommand opens the users directory the identity configuration names and
// runs one directory call. Failures are reported the way CLI11 reports its own (a
// CLI::RuntimeError carrying the exit status, turned into the return of main by CLI11_PARSE), so
// main stays a list of Add*Command calls.
#include "cli/db_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "identity/identity.h"
#include "identity/local_issuer.h"

namespace cruddur::cli {
namespace {

struct DbOptions {
  std::string data_dir = "./data";
  std::string connection_url;  // overrides CONNECTION_URL
};

[[noreturn]] void Fail(const Status& status) {
  std::cerr << "cruddur db: " << status.ToString() << "\n";
  throw CLI::RuntimeError(1);
}

identity::IdentityConfig ConfigOrFail(const DbOptions& options) {
  Result<identity::IdentityConfig> config = identity::IdentityConfig::FromEnvironment();
  if (!config.ok()) Fail(config.status());
  config->data_dir = options.data_dir;
  if (!options.connection_url.empty()) config->connection_url = options.connection_url;
  return *config;
}

std::unique_ptr<identity::UsersDirectory> OpenOrFail(const identity::IdentityConfig& config) {
  Result<std::unique_ptr<identity::UsersDirectory>> users = identity::OpenUsersDirectory(config);
  if (!users.ok()) Fail(users.status());
  return std::move(users).value();
}

std::string StoreName(const identity::IdentityConfig& config) {
  return config.UsesPostgres() ? "PostgreSQL" : "SQLite in " + config.data_dir;
}

void SchemaLoad(const DbOptions& options) {
  identity::IdentityConfig config = ConfigOrFail(options);
  Status migrated = OpenOrFail(config)->Migrate();
  if (!migrated.ok()) Fail(migrated);
  std::cout << "users table ready (" << StoreName(config) << ")\n";
}

void Seed(const DbOptions& options) {
  identity::IdentityConfig config = ConfigOrFail(options);
  Result<int> inserted = OpenOrFail(config)->SeedDemoUsers();
  if (!inserted.ok()) Fail(inserted.status());
  std::cout << "seeded " << *inserted << " users ("
            << identity::DemoUsers().size() - static_cast<std::size_t>(*inserted)
            << " were already there)\n";
}

void Drop(const DbOptions& options) {
  identity::IdentityConfig config = ConfigOrFail(options);
  Status dropped = OpenOrFail(config)->Drop();
  if (!dropped.ok()) Fail(dropped);
  std::cout << "users table dropped (" << StoreName(config) << ")\n";
}

void UpdateCognitoUserIds(const DbOptions& options) {
  identity::IdentityConfig config = ConfigOrFail(options);
  if (config.UsesCognito()) {
    Fail(ValidationError(
        "reading users from the Cognito pool " + config.user_pool_id +
        " is not supported yet; unset AWS_COGNITO_USER_POOL_ID to use the local user pool"));
  }
  std::unique_ptr<identity::UsersDirectory> users = OpenOrFail(config);
  Result<identity::LocalIssuer> issuer = identity::LocalIssuer::Open(config.data_dir);
  if (!issuer.ok()) Fail(issuer.status());
  Result<std::vector<identity::AssignedCognitoUserId>> assigned =
      identity::AssignLocalCognitoUserIds(*users, *issuer);
  if (!assigned.ok()) Fail(assigned.status());
  // The seed's script prints "---- handle sub" for each user it updates.
  for (const identity::AssignedCognitoUserId& one : *assigned) {
    std::cout << "---- " << one.handle << " " << one.sub << "\n";
  }
  std::cout << assigned->size() << " users given a cognito_user_id\n";
}

void AddStoreOptions(CLI::App* command, DbOptions* options) {
  command->add_option("--data-dir", options->data_dir, "Folder of the SQLite store and local pool")
      ->capture_default_str();
  command->add_option("--connection-url", options->connection_url,
                      "postgresql:// URL (default: $CONNECTION_URL; unset = SQLite)");
}

}  // namespace

void AddDbCommand(CLI::App& app) {
  auto options = std::make_shared<DbOptions>();
  CLI::App* db = app.add_subcommand("db", "Manage the users database (SQLite or PostgreSQL)");
  db->require_subcommand(1);
  struct Subcommand {
    const char* name;
    const char* description;
    void (*run)(const DbOptions&);
  };
  for (const Subcommand& sub : {
           Subcommand{"schema-load", "Create the users table (safe to re-run)", SchemaLoad},
           Subcommand{"seed", "Insert the four demo users (safe to re-run)", Seed},
           Subcommand{"drop", "Drop the users table", Drop},
           Subcommand{"update-cognito-user-ids",
                      "Set users' cognito_user_id from the local user pool", UpdateCognitoUserIds},
       }) {
    CLI::App* command = db->add_subcommand(sub.name, sub.description);
    AddStoreOptions(command, options.get());
    command->callback([options, run = sub.run] { run(*options); });
  }
}

}  // namespace cruddur::cli
