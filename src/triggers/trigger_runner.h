// The trigger runner: local event-source mappings. For each mapping a worker thread follows the
// source table's stream through a StreamSource (shards, never storage), reads batches, applies
// the filter, calls the handler, and checkpoints the position after the handler succeeded.
//
// Per mapping, as Lambda does for DynamoDB streams (Lambda Developer Guide, "Using AWS Lambda with
// Amazon DynamoDB" and "Lambda event source mappings"):
//  - Shard lineage: a child shard is read only after its parent has been read to its end (or has
//    been trimmed away), so records of one item reach the handler in the order they were written.
//  - Batching: up to batch-size records; with a batching window, the worker waits up to the window
//    for the batch to fill before calling the handler. One batch is from one shard, in order.
//  - Filters: records that match no pattern are skipped and checkpointed past.
//  - Errors: a failing batch is retried with capped exponential backoff (retry_base doubling up to
//    retry_cap). With bisect, a failing batch of two or more records is split in two and each half
//    is delivered separately, first half first, each with the whole retry budget (splitting does
//    not count as a retry, as in Lambda). When the budget is spent, the batch goes whole to the
//    on-failure destination and the mapping moves on; retries=-1 retries until it succeeds.
//  - Checkpoints: written durably after the handler succeeded (or the batch was filtered out or
//    sent to the on-failure destination). A restart resumes after the last checkpointed record:
//    a batch that finished is not run again, one that did not finish is. Starting position
//    (TRIM_HORIZON or LATEST) applies only to shards the mapping has no checkpoint for when it
//    first sees a stream; shards created later are read from their beginning. Until a LATEST
//    shard has delivered its first record, its position is "the tip": records written while the
//    runner is down before then are skipped, as with a Lambda mapping created at LATEST.
//  - A new stream for the table (the table was re-created, or its stream disabled and enabled
//    again) resets the mapping's checkpoint to the new stream with its starting position.
//
// Ownership: the runner owns its workers, handlers, destinations and checkpoint store. The
// StreamSource, the DynamoClient and the NativeHandlerRegistry must outlive it.
// Thread-safety: every public method may be called from any thread (e.g. the admin endpoint on
// an HTTP event loop). RemoveMapping and Stop block until the affected workers have finished
// their current step: at most about a second, or a native handler's running call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dynamo/client/client.h"
#include "triggers/checkpoint_store.h"
#include "triggers/command_handler.h"
#include "triggers/handler.h"
#include "triggers/mapping_config.h"
#include "triggers/stream_source.h"

namespace cruddur::triggers {

struct RunnerOptions {
  // What command handlers see as AWS_REGION and AWS_ENDPOINT_URL(_DYNAMODB).
  std::string region = "us-east-1";
  std::string engine_url;  // e.g. "http://127.0.0.1:8000"; "" leaves the server's own settings
  // "" = checkpoints in memory and no mappings file. Otherwise the directory holds one checkpoint
  // file per mapping and `mappings.json`, the mappings created with AddMapping.
  std::string state_dir;
  // Longest single WaitForRecords when a mapping is caught up; also bounds how long Stop waits
  // for an idle worker with the default (sleeping) StreamSource.
  std::chrono::milliseconds idle_wait{200};
  // Pause after the source failed (table or stream missing, engine unreachable).
  std::chrono::milliseconds error_wait{1000};
  // Backoff between handler retries: retry_base * 2^attempt, at most retry_cap.
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_cap{30000};
  // How often a busy worker re-reads the shard list (new shards, a new stream).
  std::chrono::milliseconds shard_refresh{1000};
  // On Stop, how long a handler in the middle of a batch may take to finish it before it is
  // cancelled (RemoveMapping cancels at once).
  std::chrono::milliseconds stop_grace{5000};
  NativeHandlerRegistry* natives = nullptr;  // for `native=` mappings; not owned
  // Runner messages (errors, dropped batches); default: stderr with a "cruddur triggers: " prefix.
  std::function<void(std::string_view)> log;
  // Command handlers' output lines; default: stderr.
  CommandHandler::OutputSink command_output;
};

// A mapping as ListMappings reports it.
struct MappingState {
  MappingConfig config;
  bool persistent = false;  // created with AddMapping, kept in the mappings file
  // "starting" | "waiting" (no stream yet, or the source failed) | "running" | "retrying"
  std::string state = "starting";
  std::string stream_arn;
  std::string last_sequence_number;  // of the last record checkpointed
  std::string last_error;            // "" until something failed
  uint64_t batches_ok = 0;
  uint64_t batches_failed = 0;  // batches that exhausted their retries
  uint64_t records_delivered = 0;
  uint64_t records_filtered = 0;
};

// Writes the list as {"Mappings":[{<mapping keys>..., "persistent", "state", "stream_arn",
// "last_sequence_number", "last_error", "batches_ok", "batches_failed", "records_delivered",
// "records_filtered"}]}.
std::string MappingStatesToJson(const std::vector<MappingState>& states);

class MappingWorker;

class TriggerRunner {
 public:
  // Checkpoints go to options.state_dir (created when missing) or, when it is empty, to memory.
  // `client` is used for table: on-failure destinations and may be null when none is configured.
  static Result<std::unique_ptr<TriggerRunner>> Create(StreamSource* source,
                                                       dynamo::DynamoClient* client,
                                                       RunnerOptions options);
  // The same with a given checkpoint store (tests; the mappings file still follows state_dir).
  static std::unique_ptr<TriggerRunner> CreateWithStore(StreamSource* source,
                                                        dynamo::DynamoClient* client,
                                                        RunnerOptions options,
                                                        std::unique_ptr<CheckpointStore> store);

  TriggerRunner(const TriggerRunner&) = delete;
  TriggerRunner& operator=(const TriggerRunner&) = delete;
  ~TriggerRunner();  // Stop()

  // Starts the mappings of the mappings file (when there is a state_dir) and `configured` (from
  // the command line or a config file; these win over a persisted mapping of the same name and
  // are not written to the mappings file). Call once, before AddMapping. Fails, starting nothing,
  // when a mapping is invalid (e.g. names a native handler that is not registered).
  Status Start(const std::vector<MappingConfig>& configured);

  // Adds and starts a mapping, and records it in the mappings file. ValidationException for an
  // invalid mapping, ResourceInUseException when the name is taken.
  Status AddMapping(const MappingConfig& config);
  // Stops a mapping, forgets its checkpoint, and drops it from the mappings file.
  // ResourceNotFoundException when there is no such mapping.
  Status RemoveMapping(const std::string& name);
  std::vector<MappingState> ListMappings() const;

  // Stops every worker and joins its thread; a handler in the middle of a batch may finish it
  // (up to RunnerOptions::stop_grace). Idempotent; Add/Remove fail afterwards.
  void Stop();

 private:
  TriggerRunner(StreamSource* source, dynamo::DynamoClient* client, RunnerOptions options,
                std::unique_ptr<CheckpointStore> store);
  Result<std::unique_ptr<MappingWorker>> MakeWorker(const MappingConfig& config, bool persistent);
  Status WriteMappingsFileLocked();
  std::string MappingsFilePath() const;

  StreamSource* source_;          // not owned
  dynamo::DynamoClient* client_;  // not owned, may be null
  RunnerOptions options_;
  std::unique_ptr<CheckpointStore> store_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<MappingWorker>> workers_;
  std::set<std::string> removing_;  // names whose worker is being stopped by RemoveMapping
  // Mappings of the mappings file overridden by a configured one of the same name: not running,
  // but kept in the file.
  std::vector<MappingConfig> shadowed_;
  bool stopped_ = false;
};

}  // namespace cruddur::triggers
