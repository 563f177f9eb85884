// The `cruddur` command. Subcommands:
//   cruddur dynamodb   the DynamoDB-compatible engine (see dynamodb_command.h)
//   cruddur db ...     the users directory: schema-load, seed, drop, update-cognito-user-ids
//   cruddur auth ...   tokens from the local issuer (auth token <handle>)
//   cruddur triggers   list / create / delete event-source mappings of a running engine
#include <CLI/CLI.hpp>

#include "cli/auth_command.h"
#include "cli/db_command.h"
#include "cli/dynamodb_command.h"
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
  dynamodb->add_option("--threads", ddb.threads, "Event loops (0 = one per core)")
      ->capture_default_str();
  cruddur::cli::AddDbCommand(app);
  cruddur::cli::AddAuthCommand(app);
  cruddur::cli::AddTriggersCommand(app);

  CLI11_PARSE(app, argc, argv);
  if (dynamodb->parsed()) return cruddur::cli::RunDynamoDb(ddb);
  return 0;
}
