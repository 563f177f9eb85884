// `cruddur dynamodb`: the DynamoDB-compatible engine as a server.
#pragma once

#include <cstdint>
#include <string>

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
};

// Opens the store, serves until SIGINT/SIGTERM, then shuts down gracefully. Returns the
// process exit code (0 after a clean shutdown).
int RunDynamoDb(const DynamoDbOptions& options);

}  // namespace cruddur::cli
