// The `cruddur` command. Subcommands:
//   cruddur serve      the messaging backend: API, engine, stream handler (serve_command.h)
//   cruddur dynamodb   the DynamoDB-compatible engine (see dynamodb_command.h)
//   cruddur ddb ...    the seed's DynamoDB scripts: schema-load, list-tables, drop, scan, seed,
//                      get-conversation, list-conversations
//   cruddur db ...     the users directory: schema-load, seed, drop, update-cognito-user-ids
//   cruddur auth ...   tokens from the local issuer (auth token <handle>)
//   cruddur cognito    list-users of the Cognito user pool (AWS_COGNITO_USER_POOL_ID)
//   cruddur triggers   list / create / delete event-source mappings of a running engine
#include <CLI/CLI.hpp>

#include "cli/auth_command.h"
#include "cli/db_command.h"
#include "cli/ddb_command.h"
#include "cli/dynamodb_command.h"
#include "cli/serve_command.h"
#include "cli/triggers_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Cruddur: direct messaging on a DynamoDB-compatible engine"};
  app.require_subcommand(1);

  cruddur::cli::DynamoDbOptions ddb;
  CLI::App* dynamodb = app.add_subcommand("dynamodb", "Run the DynamoDB-compatible engine");
  dynamodb->add_option("--host", ddb.host, "Address to listen on")->capture_default_str();
  dynamodb->add_option("--port", ddb.port, "Port to listen on (0 picks a free one)")
      ->capture_default_str();
  dynamodb->add_option("--data-dir", ddb.data_dir, "Folder of the RocksDB store")
      ->capture_default_str();
  dynamodb->add_flag("--in-memory", ddb.in_memory, "Keep nothing on disk");
  dynamodb->add_flag("--sync", ddb.sync, "fsync the write-ahead log before acknowledging writes");
  dynamodb->add_option("--region", ddb.region, "Region shown in ARNs")->capture_default_str();
  dynamodb
      ->add_option("--stream-retention-hours", ddb.stream_retention_hours,
                   "Hours stream records are kept")
      ->check(CLI::Range(1, 24 * 365))
      ->capture_default_str();
  dynamodb
      ->add_option("--ttl-period-seconds", ddb.ttl_period_seconds,
                   "Seconds between sweeps that delete items whose TTL has passed")
      ->check(CLI::Range(1, 24 * 3600))
      ->capture_default_str();
  dynamodb->add_option("--trigger", ddb.trigger_specs,
                       "An event-source mapping, e.g. 'name=n,table=t,batch-size=10,command=...' "
                       "(repeatable; see src/triggers/mapping_config.h)");
  dynamodb->add_option("--triggers-file", ddb.triggers_file, "A JSON list of mappings")
      ->check(CLI::ExistingFile);
  dynamodb
      ->add_option("--auth", ddb.auth_file,
                   "JSON file of access keys, secrets and IAM policies; every request must then "
                   "be SigV4-signed and allowed")
      ->check(CLI::ExistingFile);
  dynamodb
      ->add_option("--inject-throttling", ddb.inject_throttling,
                   "Testing: refuse N of every N+1 item requests with "
                   "ProvisionedThroughputExceededException")
      ->check(CLI::Range(0, 1000000));
  dynamodb->add_option("--threads", ddb.threads, "Event loops (0 = one per core)")
      ->capture_default_str();
  cruddur::cli::ServeOptions serve;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run Cruddur's messaging backend (API, engine, stream handler)");
  serve_cmd->add_option("--host", serve.host, "Address to listen on")->capture_default_str();
  serve_cmd->add_option("--api-port", serve.api_port, "Port of the messaging API")
      ->capture_default_str();
  serve_cmd->add_option("--dynamodb-port", serve.dynamodb_port, "Port of the embedded engine")
      ->capture_default_str();
  serve_cmd->add_option("--data-dir", serve.data_dir, "Folder of the embedded stores")
      ->capture_default_str();
  serve_cmd->add_flag("--in-memory", serve.in_memory, "The embedded engine keeps nothing on disk");
  serve_cmd->add_option("--endpoint-url", serve.endpoint_url,
                        "A remote DynamoDB endpoint instead of the embedded engine "
                        "(default: $AWS_ENDPOINT_URL_DYNAMODB or $AWS_ENDPOINT_URL)");
  serve_cmd->add_option("--region", serve.region, "Region of the embedded engine")
      ->capture_default_str();
  serve_cmd->add_flag("--demo", serve.demo,
                      "Create the table, the demo users and their conversation; print a token");
  serve_cmd
      ->add_option("--cache-capacity", serve.cache_capacity,
                   "Entries per read cache (0 turns it off)")
      ->capture_default_str();
  serve_cmd->add_option("--threads", serve.threads, "Event loops per server (0 = one per core)");
  serve_cmd
      ->add_option("--ttl-period-seconds", serve.ttl_period_seconds,
                   "Seconds between the embedded engine's sweeps of expired items (TTL)")
      ->check(CLI::Range(1, 24 * 3600))
      ->capture_default_str();
  serve_cmd->add_option("--web-dir", serve.web_dir,
                        "Folder of the messaging page (default: the repository's web/)");
  cruddur::cli::AddDbCommand(app);
  cruddur::cli::AddDdbCommand(app);
  cruddur::cli::AddCognitoCommand(app);
  cruddur::cli::AddAuthCommand(app);
  cruddur::cli::AddTriggersCommand(app);

  CLI11_PARSE(app, argc, argv);
  if (dynamodb->parsed()) return cruddur::cli::RunDynamoDb(ddb);
  if (serve_cmd->parsed()) return cruddur::cli::RunServe(serve);
  return 0;
}
