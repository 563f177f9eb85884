// The engine as a running service, shared by `cruddur dynamodb` and `cruddur serve`: the
// RocksDB store, the DynamoDB + Streams HTTP endpoint, stream trimming, the TTL sweeper, and the
// trigger runner (event-source mappings) with its admin paths (/_cruddur/triggers) on the same
// port.
//
// Ownership: EngineHost owns everything it starts; Stop (or the destructor) stops the HTTP
// server first, then the triggers, then closes the store. The native handler registry passed
// to Start must outlive the host.
// Thread-safety: the accessors may be used from any thread while the host runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "dynamo/auth/auth_config.h"
#include "dynamo/client/client.h"
#include "dynamo/storage/engine.h"
#include "triggers/handler.h"
#include "triggers/trigger_runner.h"

namespace cruddur::cli {

struct EngineHostOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0 picks a free port
  std::string data_dir;  // the RocksDB folder; triggers keep their state in <data_dir>/triggers
  bool in_memory = false;
  bool sync = false;
  std::string region = "us-east-1";
  int threads = 0;
  int stream_retention_hours = 24;
  // Seconds between passes of the TTL sweeper (dynamo/ttl).
  int ttl_period_seconds = 60;
  std::vector<triggers::MappingConfig> triggers;         // from --trigger / --triggers-file
  std::shared_ptr<const dynamo::auth::AuthConfig> auth;  // null: requests are not verified
  int inject_throttling = 0;                             // DynamoServiceOptions::inject_throttling
  // Run once the engine answers and before the triggers start (e.g. creating the tables the
  // triggers read); its error fails Start.
  std::function<Status(dynamo::DynamoClient*)> before_triggers;
};

class EngineHost {
 public:
  // Opens the store, starts the HTTP endpoint, then the triggers (whose command handlers are
  // told the endpoint's real URL). Errors name what failed (store, port, a mapping).
  static Result<std::unique_ptr<EngineHost>> Start(const EngineHostOptions& options,
                                                   triggers::NativeHandlerRegistry* natives);
  ~EngineHost();
  void Stop();

  uint16_t port() const;
  dynamo::DynamoClient* client();  // in-process
  dynamo::storage::Engine* engine();
  triggers::TriggerRunner* runner();

 private:
  struct Impl;
  explicit EngineHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses --trigger specs and a --triggers-file into mappings; errors name the bad one.
Result<std::vector<triggers::MappingConfig>> ReadTriggerOptions(
    const std::vector<std::string>& specs, const std::string& file);

}  // namespace cruddur::cli
