// `cruddur ddb`: each subcommand resolves where DynamoDB is (local engine, --endpoint-url, or
// the AWS configuration with `prod`), opens one HttpDynamoClient and makes the seed script's
// calls. Messaging reads and writes go through MessageStore (and SeedDemoConversation), so what
// these commands show and write is what the service itself reads and writes. Failures are
// reported as CLI11 reports its own (a CLI::RuntimeError carrying the exit status), as
// `cruddur db` does.
#include "cli/ddb_command.h"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "dynamo/client/aws_config.h"
#include "dynamo/client/http_client.h"
#include "identity/identity.h"
#include "identity/identity_config.h"
#include "identity/users_directory.h"
#include "messaging/clock.h"
#include "messaging/demo.h"
#include "messaging/store.h"

namespace cruddur::cli {
namespace {

constexpr std::string_view kLocalEndpoint = "http://127.0.0.1:8000";
// Without `prod` and without a configured region / keys: the local engine accepts any.
constexpr std::string_view kLocalRegion = "us-east-1";
constexpr std::string_view kDummyKey = "cruddur";
// The AWS CLI's default (standard retry mode), which the seed's shell scripts ran under; the
// HTTP client's own default of 10 (botocore's legacy DynamoDB policy) makes an unreachable
// endpoint take seconds to report.
constexpr int kDefaultMaxAttempts = 3;
constexpr std::string_view kDefaultHandle = "andrewbrown";
constexpr std::string_view kDemoOther = "bayko";

struct DdbOptions {
  std::string endpoint_url;  // empty: the local engine, or with `prod` the AWS configuration
  std::string data_dir = "./data";
  std::string connection_url;      // overrides CONNECTION_URL
  std::vector<std::string> words;  // positional: `prod`, a table, a group uuid, a handle
};

// A run of one subcommand: its name for messages and where it talks to.
struct Run {
  std::string name;
  std::string endpoint;
  bool local = false;  // the default local endpoint (hint: start the engine)
  std::unique_ptr<dynamo::HttpDynamoClient> client;
};

[[noreturn]] void FailText(std::string_view sub, const std::string& message) {
  std::cerr << "cruddur ddb " << sub << ": " << message << "\n";
  throw CLI::RuntimeError(1);
}

// Reports a failed DynamoDB call, naming the endpoint when it could not be reached.
[[noreturn]] void Fail(const Run& run, const Status& status) {
  if (status.code() == ErrorCode::kIo) {
    std::string message = "cannot reach the DynamoDB endpoint at " + run.endpoint;
    if (run.local) message += " (is `cruddur dynamodb` or `cruddur serve` running?)";
    FailText(run.name, message + ": " + status.message());
  }
  FailText(run.name, status.ToString());
}

// {"TableName": table}: the whole request of DescribeTable and DeleteTable.
std::string TableRequest(std::string_view table) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("TableName");
  w.String(table.data(), static_cast<rapidjson::SizeType>(table.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// The table the messaging commands use must exist; a missing one gets the schema-load hint.
// A refused DescribeTable (an IAM policy without it, as the seed's) is not fatal: the command's
// own calls then report what is wrong.
void RequireTable(const Run& run) {
  Result<std::string> described = run.client->Call(dynamo::Api::kDynamoDB, "DescribeTable",
                                                   TableRequest(messaging::kDefaultTableName));
  if (described.ok()) return;
  if (described.status().code() == ErrorCode::kResourceNotFound) {
    FailText(run.name, "table " + std::string(messaging::kDefaultTableName) +
                           " does not exist at " + run.endpoint +
                           "; create it with `cruddur ddb schema-load`");
  }
  if (described.status().code() == ErrorCode::kIo) Fail(run, described.status());
}

// Splits the positional words into `prod` and the rest; more than `max_args` others is a usage
// error.
std::vector<std::string> Arguments(std::string_view sub, const DdbOptions& options,
                                   std::size_t max_args, bool* prod) {
  std::vector<std::string> args;
  *prod = false;
  for (const std::string& word : options.words) {
    if (word == "prod") {
      *prod = true;
    } else {
      args.push_back(word);
    }
  }
  if (args.size() > max_args) FailText(sub, "unexpected argument '" + args[max_args] + "'");
  return args;
}

Run Connect(std::string sub, const DdbOptions& options, bool prod) {
  Run run;
  run.name = std::move(sub);
  const dynamo::Environment env = dynamo::ProcessEnvironment();
  Result<dynamo::DynamoClientConfig> loaded = dynamo::LoadDynamoClientConfig(env);
  dynamo::DynamoClientConfig config;
  if (loaded.ok()) {
    config = std::move(loaded).value();
  } else if (prod) {
    // AWS itself (or whatever the configuration names): its configuration must be complete.
    FailText(run.name, "AWS configuration: " + loaded.status().message());
  } else {
    config.region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or(""));
    if (config.region.empty()) config.region = kLocalRegion;
    config.credentials = {std::string(kDummyKey), std::string(kDummyKey), ""};
  }
  if (!options.endpoint_url.empty()) {
    config.endpoint = options.endpoint_url;
  } else if (!prod) {
    config.endpoint = kLocalEndpoint;
    run.local = true;
  }
  run.endpoint = config.endpoint;
  dynamo::HttpDynamoClientOptions client_options = dynamo::OptionsFromConfig(config);
  if (config.max_attempts == 0) client_options.max_attempts = kDefaultMaxAttempts;
  Result<std::unique_ptr<dynamo::HttpDynamoClient>> client =
      dynamo::HttpDynamoClient::Create(std::move(client_options));
  if (!client.ok()) FailText(run.name, "DynamoDB client: " + client.status().message());
  run.client = std::move(client).value();
  return run;
}

std::unique_ptr<identity::UsersDirectory> OpenUsers(const Run& run, const DdbOptions& options) {
  Result<identity::IdentityConfig> config = identity::IdentityConfig::FromEnvironment();
  if (!config.ok()) FailText(run.name, config.status().ToString());
  config->data_dir = options.data_dir;
  if (!options.connection_url.empty()) config->connection_url = options.connection_url;
  Result<std::unique_ptr<identity::UsersDirectory>> users = identity::OpenUsersDirectory(*config);
  if (!users.ok()) FailText(run.name, "users directory: " + users.status().ToString());
  return std::move(users).value();
}

// The user with `handle`; a missing user (or users table) gets the `cruddur db seed` hint.
identity::ShortProfile UserOrFail(const Run& run, identity::UsersDirectory* users,
                                  std::string_view handle) {
  Result<identity::ShortProfile> user = users->ShortProfileByHandle(handle);
  if (user.ok()) return std::move(user).value();
  if (user.status().code() == ErrorCode::kResourceNotFound) {
    FailText(run.name, "no user @" + std::string(handle) +
                           " in the users directory; load the demo users with `cruddur db "
                           "schema-load` and `cruddur db seed` (same --data-dir)");
  }
  FailText(run.name, "users directory: " + user.status().ToString());
}

json::Document CallOrFail(const Run& run, std::string_view operation, std::string_view request) {
  Result<std::string> body = run.client->Call(dynamo::Api::kDynamoDB, operation, request);
  if (!body.ok()) Fail(run, body.status());
  json::Document doc;
  if (Status parsed = json::Parse(*body, &doc); !parsed.ok() || !doc.IsObject()) {
    FailText(run.name, std::string(operation) + " answered something that is not a JSON object");
  }
  return doc;
}

// "2026-11-24 09:02 AM" in the local time zone, as the seed's get-conversation prints times;
// the stored text itself when it is not one of messaging's timestamps.
std::string LocalTime(std::string_view created_at) {
  std::optional<std::int64_t> micros = messaging::ParseTimestamp(created_at);
  if (!micros) return std::string(created_at);
  const std::time_t seconds = static_cast<std::time_t>(*micros / 1000000);
  std::tm local{};
  if (localtime_r(&seconds, &local) == nullptr) return std::string(created_at);
  char text[32];
  const std::size_t n = std::strftime(text, sizeof(text), "%Y-%m-%d %I:%M %p", &local);
  return std::string(text, n);
}

// One line of a conversation or an inbox: the handle and time in columns, then the text.
void PrintLine(std::string_view handle, std::string_view created_at, std::string_view text) {
  std::string line(handle);
  line.resize(std::max<std::size_t>(line.size() + 1, 12), ' ');
  std::string time = LocalTime(created_at);
  time.resize(std::max<std::size_t>(time.size() + 1, 22), ' ');
  std::cout << line << time << text << "\n";
}

void SchemaLoad(const DdbOptions& options) {
  bool prod = false;
  Arguments("schema-load", options, 0, &prod);
  Run run = Connect("schema-load", options, prod);
  messaging::MessageStore store(run.client.get(), {});
  Status created = store.CreateTable();
  if (created.code() == ErrorCode::kResourceInUse) {
    std::cout << "table " << store.table_name() << " already exists at " << run.endpoint
              << "; nothing changed\n";
    return;
  }
  if (!created.ok()) Fail(run, created);
  json::Document described = CallOrFail(run, "DescribeTable", TableRequest(store.table_name()));
  if (described.HasMember("Table")) {
    std::cout << json::ToString(described["Table"]) << "\n";
  } else {
    std::cout << json::ToString(described) << "\n";
  }
}

void ListTables(const DdbOptions& options) {
  bool prod = false;
  Arguments("list-tables", options, 0, &prod);
  Run run = Connect("list-tables", options, prod);
  std::string start;
  do {
    json::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    if (!start.empty()) {
      w.Key("ExclusiveStartTableName");
      w.String(start);
    }
    w.EndObject();
    json::Document page =
        CallOrFail(run, "ListTables", std::string_view(buf.GetString(), buf.GetSize()));
    if (page.HasMember("TableNames") && page["TableNames"].IsArray()) {
      for (const json::Value& name : page["TableNames"].GetArray()) {
        if (name.IsString()) std::cout << name.GetString() << "\n";
      }
    }
    start.clear();
    if (page.HasMember("LastEvaluatedTableName") && page["LastEvaluatedTableName"].IsString()) {
      start = page["LastEvaluatedTableName"].GetString();
    }
  } while (!start.empty());
}

void Drop(const DdbOptions& options) {
  // The seed's order: the table first, then `prod`.
  if (options.words.empty()) {
    FailText("drop", "no table name given, e.g. `cruddur ddb drop cruddur-messages [prod]`");
  }
  const std::string table = options.words[0];
  if (options.words.size() > 2 || (options.words.size() == 2 && options.words[1] != "prod")) {
    FailText("drop", "unexpected argument '" + options.words.back() +
                         "'; usage: cruddur ddb drop <table> [prod]");
  }
  Run run = Connect("drop", options, options.words.size() == 2);
  std::cout << "deleting table: " << table << "\n";
  Result<std::string> deleted =
      run.client->Call(dynamo::Api::kDynamoDB, "DeleteTable", TableRequest(table));
  if (!deleted.ok() && deleted.status().code() == ErrorCode::kResourceNotFound) {
    FailText(run.name, "no table " + table + " at " + run.endpoint);
  }
  if (!deleted.ok()) Fail(run, deleted.status());
  std::cout << "table " << table << " deleted\n";
}

// Every item, one DynamoDB-JSON object a line, following LastEvaluatedKey to the end (the seed
// printed only the first 1 MB page).
void Scan(const DdbOptions& options) {
  bool prod = false;
  Arguments("scan", options, 0, &prod);
  Run run = Connect("scan", options, prod);
  RequireTable(run);
  std::string start_key;  // the previous page's LastEvaluatedKey, as JSON
  do {
    json::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    w.Key("TableName");
    w.String(messaging::kDefaultTableName.data(),
             static_cast<rapidjson::SizeType>(messaging::kDefaultTableName.size()));
    if (!start_key.empty()) {
      w.Key("ExclusiveStartKey");
      w.RawValue(start_key.data(), start_key.size(), rapidjson::kObjectType);
    }
    w.EndObject();
    json::Document page = CallOrFail(run, "Scan", std::string_view(buf.GetString(), buf.GetSize()));
    if (page.HasMember("Items") && page["Items"].IsArray()) {
      for (const json::Value& item : page["Items"].GetArray()) {
        std::cout << json::ToString(item) << "\n";
      }
    }
    start_key.clear();
    if (page.HasMember("LastEvaluatedKey") && page["LastEvaluatedKey"].IsObject()) {
      start_key = json::ToString(page["LastEvaluatedKey"]);
    }
  } while (!start_key.empty());
}

void Seed(const DdbOptions& options) {
  bool prod = false;
  Arguments("seed", options, 0, &prod);
  Run run = Connect("seed", options, prod);
  std::unique_ptr<identity::UsersDirectory> users = OpenUsers(run, options);
  // Checked here so that a missing user is told apart from a missing table.
  UserOrFail(run, users.get(), kDefaultHandle);
  UserOrFail(run, users.get(), kDemoOther);
  RequireTable(run);
  Result<messaging::DemoResult> seeded =
      messaging::SeedDemoConversation(run.client.get(), std::string(messaging::kDefaultTableName),
                                      users.get(), messaging::SystemClock()());
  if (!seeded.ok()) Fail(run, seeded.status());
  if (seeded->messages_written == 0) {
    std::cout << kDefaultHandle << " and " << kDemoOther << " already have a conversation ("
              << seeded->message_group_uuid << "); nothing added\n";
    return;
  }
  std::cout << "seeded " << seeded->messages_written << " messages between " << kDefaultHandle
            << " and " << kDemoOther << " in message group " << seeded->message_group_uuid << "\n";
}

void GetConversation(const DdbOptions& options) {
  bool prod = false;
  std::vector<std::string> args = Arguments("get-conversation", options, 1, &prod);
  Run run = Connect("get-conversation", options, prod);
  RequireTable(run);
  messaging::MessageStore store(run.client.get(), {});
  std::string group;
  if (!args.empty()) {
    group = args[0];
    Status exists = store.Members(group).TakeStatus();
    if (exists.code() == ErrorCode::kResourceNotFound) {
      FailText(run.name, "no message group " + group + " in " + store.table_name());
    }
    if (!exists.ok()) Fail(run, exists);
  } else {
    std::unique_ptr<identity::UsersDirectory> users = OpenUsers(run, options);
    const identity::ShortProfile me = UserOrFail(run, users.get(), kDefaultHandle);
    Result<messaging::Page<messaging::MessageGroup>> first =
        store.ListMessageGroups(me.uuid, {}, 1);
    if (!first.ok()) Fail(run, first.status());
    if (first->items.empty()) {
      FailText(run.name, "@" + std::string(kDefaultHandle) +
                             " has no conversations; seed one with `cruddur ddb seed`");
    }
    group = first->items.front().uuid;
  }
  // Pages come newest first, each oldest to newest within; printed oldest first overall.
  std::vector<std::vector<messaging::Message>> pages;
  std::string cursor;
  do {
    Result<messaging::Page<messaging::Message>> page =
        store.ListMessages(group, cursor, messaging::kMaxPageSize);
    if (!page.ok()) Fail(run, page.status());
    cursor = page->next_cursor.value_or("");
    pages.push_back(std::move(page->items));
  } while (!cursor.empty());
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    for (const messaging::Message& m : *page) PrintLine(m.handle, m.created_at, m.message);
  }
}

void ListConversations(const DdbOptions& options) {
  bool prod = false;
  std::vector<std::string> args = Arguments("list-conversations", options, 1, &prod);
  Run run = Connect("list-conversations", options, prod);
  std::string handle = args.empty() ? std::string(kDefaultHandle) : args[0];
  if (handle.starts_with('@')) handle.erase(0, 1);
  std::unique_ptr<identity::UsersDirectory> users = OpenUsers(run, options);
  const identity::ShortProfile me = UserOrFail(run, users.get(), handle);
  RequireTable(run);
  messaging::MessageStore store(run.client.get(), {});
  std::string cursor;
  do {
    Result<messaging::Page<messaging::MessageGroup>> page =
        store.ListMessageGroups(me.uuid, cursor, messaging::kMaxPageSize);
    if (!page.ok()) Fail(run, page.status());
    for (const messaging::MessageGroup& g : page->items) {
      PrintLine(g.handle, g.created_at, g.message);
    }
    cursor = page->next_cursor.value_or("");
  } while (!cursor.empty());
}

}  // namespace

void AddDdbCommand(CLI::App& app) {
  auto options = std::make_shared<DdbOptions>();
  CLI::App* ddb =
      app.add_subcommand("ddb", "The seed's DynamoDB scripts: the cruddur-messages table");
  ddb->require_subcommand(1);
  struct Subcommand {
    const char* name;
    const char* description;
    const char* words;  // what the positional words are
    bool users;         // reads the users directory
    void (*run)(const DdbOptions&);
  };
  for (const Subcommand& sub : {
           Subcommand{"schema-load", "Create cruddur-messages (as the seed's schema-load)",
                      "[prod]", false, SchemaLoad},
           Subcommand{"list-tables", "List table names", "[prod]", false, ListTables},
           Subcommand{"drop", "Delete a table", "<table> [prod]", false, Drop},
           Subcommand{"scan", "Print every item of cruddur-messages", "[prod]", false, Scan},
           Subcommand{"seed", "Seed the andrewbrown/bayko demo conversation (104 messages)",
                      "[prod]", true, Seed},
           Subcommand{"get-conversation",
                      "Print a conversation oldest first (default: andrewbrown's newest)",
                      "[group_uuid] [prod]", true, GetConversation},
           Subcommand{"list-conversations", "Print a user's conversations newest first",
                      "[handle] [prod]", true, ListConversations},
       }) {
    CLI::App* command = ddb->add_subcommand(sub.name, sub.description);
    command->add_option("words", options->words, sub.words);
    command->add_option("--endpoint-url", options->endpoint_url,
                        "DynamoDB endpoint (default: " + std::string(kLocalEndpoint) +
                            ", or the AWS configuration with `prod`)");
    if (sub.users) {
      command->add_option("--data-dir", options->data_dir, "Folder of the SQLite users directory")
          ->capture_default_str();
      command->add_option("--connection-url", options->connection_url,
                          "postgresql:// URL of the users directory (default: $CONNECTION_URL)");
    }
    command->callback([options, run = sub.run] { run(*options); });
  }
}

}  // namespace cruddur::cli
