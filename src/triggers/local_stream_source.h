// The stream source of triggers inside `cruddur dynamodb` / `cruddur serve`: reads through the
// Streams API like any other source (ClientStreamSource over the in-process client), but waits
// for new records on the engine's commit signal instead of sleeping, so a handler starts within
// milliseconds of the write that feeds it.
//
// Thread-safety: thread-safe, as StreamSource requires. The engine and client must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "dynamo/storage/engine.h"
#include "triggers/stream_source.h"

namespace cruddur::triggers {

class LocalStreamSource : public ClientStreamSource {
 public:
  // `client` is an in-process client of the service that owns `engine`, in `region`.
  LocalStreamSource(dynamo::DynamoClient* client, dynamo::storage::Engine* engine,
                    std::string region);

  Result<RecordsPage> GetRecords(const std::string& iterator, int limit) override;
  void WaitForRecords(const std::string& stream_arn, std::chrono::milliseconds max_wait) override;

 private:
  // The engine's id of the stream `arn` names, or 0.
  uint64_t StreamId(const std::string& arn);

  dynamo::storage::Engine* engine_;
  std::string region_;
  std::mutex mu_;
  std::map<std::string, uint64_t> ids_;  // stream ARN -> engine stream id
  std::map<uint64_t, uint64_t> seen_;    // stream id -> newest sequence number a read covered
};

}  // namespace cruddur::triggers
