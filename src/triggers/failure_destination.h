// Where a batch goes when its handler kept failing past the mapping's retry budget (Lambda's
// on-failure destination for stream sources; unlike Lambda, which sends only a pointer to the
// records, the whole event is kept, since a local stream may be trimmed before anyone looks).
//
//   file:<path>   appends one JSON line per failed batch:
//                 {"mapping","failed_at","error","attempts","shard_id",
//                  "first_sequence_number","last_sequence_number","event":{"Records":[...]}}
//                 and fsyncs it.
//   table:<name>  PutItem through the DynamoClient of {id: S (random uuid), mapping: S,
//                 failed_at: S, error: S, event: S (the event JSON)}. DynamoDB's 400 KB item
//                 limit applies: larger batches are refused with ValidationException.
//
// Thread-safety: Send may be called from several threads; file appends are single writes of a
// whole line under a lock.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "dynamo/client/client.h"
#include "triggers/handler.h"

namespace cruddur::triggers {

struct FailedBatch {
  const Batch* batch = nullptr;
  std::string error;  // the last handler error
  int attempts = 0;   // how many times the handler was called with this batch
};

class FailureDestination {
 public:
  virtual ~FailureDestination() = default;
  virtual Status Send(const FailedBatch& failed) = 0;
};

// `spec` is a mapping's on-failure value (validated, non-empty). `client` is needed for table:
// destinations (ValidationException when it is null) and must outlive the destination.
Result<std::unique_ptr<FailureDestination>> MakeFailureDestination(const std::string& spec,
                                                                   dynamo::DynamoClient* client);

// A random RFC 4122 version 4 uuid, lower case.
std::string RandomUuid();
// Now as ISO 8601 UTC with milliseconds, e.g. "2026-05-28T10:11:12.345Z".
std::string NowIso8601();

}  // namespace cruddur::triggers
