// `cruddur dynamodb`: the DynamoDB-compatible engine as a server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cruddur::cli {

struct DynamoDbOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  std::string data_dir = "./data";
  bool in_memory = false;
  bool sync = false;
  std::string region = "us-east-1";
  int threads = 0;  // 0 = one event loop per core
  // Stream records older than this are trimmed (DynamoDB keeps them 24 hours), checked every
  // minute.
  int stream_retention_hours = 24;
  // Seconds between passes of the TTL sweeper, which deletes expired items (dynamo/ttl).
  int ttl_period_seconds = 60;
  // Event-source mappings: one-line specs (--trigger) and a JSON file of them.
  std::vector<std::string> trigger_specs;
  std::string triggers_file;
  // JSON file of access keys, secrets and IAM policies (src/dynamo/auth/auth_config.h); when
  // set, every request must be SigV4-signed by a listed key and allowed by its policies.
  std::string auth_file;
  // Refuse N of every N + 1 item requests with ProvisionedThroughputExceededException (for
  // testing clients' retries); 0 = off.
  int inject_throttling = 0;
};

// Opens the store, serves until SIGINT/SIGTERM, then shuts down gracefully. Returns the
// process exit code (0 after a clean shutdown).
int RunDynamoDb(const DynamoDbOptions& options);

}  // namespace cruddur::cli
