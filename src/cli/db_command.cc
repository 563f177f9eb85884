// `cruddur db`: each subcommand opens the users directory the identity configuration names and
// runs one directory call. Failures are reported the way CLI11 reports its own (a
// CLI::RuntimeError carrying the exit status, turned into the return of main by CLI11_PARSE), so
// main stays a list of Add*Command calls.
#include "cli/db_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dynamo/client/aws_config.h"
#include "identity/cognito_users.h"
#include "identity/identity.h"
#include "identity/local_issuer.h"

namespace cruddur::cli {
namespace {

struct DbOptions {
  std::string data_dir = "./data";
  std::string connection_url;  // overrides CONNECTION_URL
  std::string from_file;       // update-cognito-user-ids: pool users from this file
  bool create_missing = false;
};

struct CognitoOptions {
  std::string user_pool_id;  // overrides AWS_COGNITO_USER_POOL_ID
  bool json = false;
};

[[noreturn]] void Fail(const Status& status, const char* command = "db") {
  std::cerr << "cruddur " << command << ": " << status.ToString() << "\n";
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

// The local pool: each user without a cognito_user_id gets the local pool's sub for its handle.
void AssignFromLocalPool(const identity::IdentityConfig& config, identity::UsersDirectory& users) {
  Result<identity::LocalIssuer> issuer = identity::LocalIssuer::Open(config.data_dir);
  if (!issuer.ok()) Fail(issuer.status());
  Result<std::vector<identity::AssignedCognitoUserId>> assigned =
      identity::AssignLocalCognitoUserIds(users, *issuer);
  if (!assigned.ok()) Fail(assigned.status());
  // The seed's script prints "---- handle sub" for each user it updates.
  for (const identity::AssignedCognitoUserId& one : *assigned) {
    std::cout << "---- " << one.handle << " " << one.sub << "\n";
  }
  std::cout << assigned->size() << " users given a cognito_user_id\n";
}

std::vector<identity::CognitoUser> ListPoolOrFail(std::string_view user_pool_id,
                                                  const char* command) {
  Result<identity::CognitoClientOptions> client =
      identity::CognitoClientOptionsFromEnvironment(dynamo::ProcessEnvironment());
  if (!client.ok()) Fail(client.status(), command);
  Result<std::vector<identity::CognitoUser>> users =
      identity::ListCognitoUsers(*client, user_pool_id);
  if (!users.ok()) {
    // The message already names Cognito's error type ("Cognito ListUsers: <type>: ...").
    std::cerr << "cruddur " << command << ": " << users.status().message() << "\n";
    throw CLI::RuntimeError(1);
  }
  return std::move(users).value();
}

void UpdateCognitoUserIds(const DbOptions& options) {
  identity::IdentityConfig config = ConfigOrFail(options);
  if (options.from_file.empty() && !config.UsesCognito()) {
    if (options.create_missing) {
      Fail(
          ValidationError("--create-missing needs a Cognito pool (AWS_COGNITO_USER_POOL_ID) or "
                          "--from-file; the local pool holds no users of its own"));
    }
    AssignFromLocalPool(config, *OpenOrFail(config));
    return;
  }
  std::vector<identity::CognitoUser> pool;
  if (!options.from_file.empty()) {
    Result<std::vector<identity::CognitoUser>> read =
        identity::ReadCognitoUsersFile(options.from_file);
    if (!read.ok()) Fail(read.status());
    pool = std::move(read).value();
  } else {
    pool = ListPoolOrFail(config.user_pool_id, "db");
  }
  std::unique_ptr<identity::UsersDirectory> users = OpenOrFail(config);
  Result<identity::CognitoSyncReport> report =
      identity::SyncCognitoUserIds(*users, pool, {.create_missing = options.create_missing});
  if (!report.ok()) Fail(report.status());
  for (const auto& change : report->changed) {
    std::cout << "---- " << change.handle << " " << change.sub
              << (change.previous.empty() ? "" : " (was " + change.previous + ")") << "\n";
  }
  for (const auto& created : report->created) {
    std::cout << "---- " << created.handle << " " << created.sub << " (created)\n";
  }
  for (const identity::CognitoUser& user : report->skipped) {
    std::cerr << "skipped pool user " << user.username << ": no "
              << (user.preferred_username.empty() ? "preferred_username" : "sub") << "\n";
  }
  for (const identity::CognitoUser& user : report->unmatched) {
    std::cerr << "no user has the handle " << user.preferred_username << " (pool user "
              << user.username << "); --create-missing inserts it\n";
  }
  for (const auto& failure : report->failed) {
    std::cerr << "cruddur db: pool user " << failure.username << " (" << failure.handle
              << "): " << failure.status.ToString() << "\n";
  }
  std::cout << report->changed.size() << " users given a cognito_user_id, "
            << report->created.size() << " created, " << report->unchanged.size() << " unchanged, "
            << report->unmatched.size() << " unmatched, " << report->skipped.size() << " skipped, "
            << report->failed.size() << " failed\n";
  if (!report->ok()) throw CLI::RuntimeError(1);
}

// The seed's bin/cognito/list-users: one "<preferred_username> <sub>" line per user.
void ListUsers(const CognitoOptions& options) {
  std::string pool_id = options.user_pool_id;
  if (pool_id.empty()) {
    Result<identity::IdentityConfig> config = identity::IdentityConfig::FromEnvironment();
    if (!config.ok()) Fail(config.status(), "cognito");
    pool_id = config->user_pool_id;
  }
  if (pool_id.empty()) {
    Fail(ValidationError("no user pool: set AWS_COGNITO_USER_POOL_ID or pass --user-pool-id"),
         "cognito");
  }
  std::vector<identity::CognitoUser> users = ListPoolOrFail(pool_id, "cognito");
  if (options.json) {
    std::cout << identity::CognitoUsersJson(users) << "\n";
    return;
  }
  for (const identity::CognitoUser& user : users) {
    if (user.preferred_username.empty()) {
      std::cerr << "skipped pool user " << user.username << ": no preferred_username\n";
      continue;
    }
    std::cout << user.preferred_username << " " << user.sub << "\n";
  }
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
                      "Set users' cognito_user_id from the Cognito pool (or the local one)",
                      UpdateCognitoUserIds},
       }) {
    CLI::App* command = db->add_subcommand(sub.name, sub.description);
    AddStoreOptions(command, options.get());
    command->callback([options, run = sub.run] { run(*options); });
    if (sub.run == UpdateCognitoUserIds) {
      command->add_option("--from-file", options->from_file,
                          "Pool users from the output of `aws cognito-idp list-users`");
      command->add_flag("--create-missing", options->create_missing,
                        "Insert pool users whose handle the directory lacks");
    }
  }
}

void AddCognitoCommand(CLI::App& app) {
  auto options = std::make_shared<CognitoOptions>();
  CLI::App* cognito = app.add_subcommand("cognito", "Read the Cognito user pool");
  cognito->require_subcommand(1);
  CLI::App* list = cognito->add_subcommand(
      "list-users", "Print the pool's users: '<preferred_username> <sub>' per line");
  list->add_option("--user-pool-id", options->user_pool_id,
                   "User pool id (default: $AWS_COGNITO_USER_POOL_ID)");
  list->add_flag("--json", options->json, "Print the users as `aws cognito-idp list-users` does");
  list->callback([options] { ListUsers(*options); });
}

}  // namespace cruddur::cli
