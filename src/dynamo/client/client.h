// The DynamoDB client interface: the one seam through which Cruddur's own code (messaging, the
// trigger runner, the CLI) talks to a DynamoDB-API engine, whether the in-process engine
// (LocalDynamoClient, dynamo/server/local_client.h) or a remote one over HTTP (AWS DynamoDB,
// ScyllaDB Alternator, another `cruddur dynamodb`; the HTTP client of issue #7).
//
// The interface is the wire protocol itself: an operation name and its JSON request body in,
// the JSON response body or a Status out. Callers build and read DynamoDB JSON (with
// dynamo/json/attribute_json.h), so code written against it behaves the same on every engine,
// and nothing here has to mirror the API's hundreds of request fields.
//
// Errors: an error answered by the engine comes back as a Status whose code is the error's
// type (ErrorCodeFromName of the `__type` suffix; unknown types map to kInternal with the type
// named in the message), whose message is the engine's message and whose details_json carries
// the body's other members (e.g. CancellationReasons). Transport failures are kIo.
//
// Thread-safety: implementations are thread-safe; one client may be shared by all threads.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace cruddur::dynamo {

// Which of the two JSON protocols an operation belongs to: DynamoDB ("DynamoDB_20120810.")
// or DynamoDB Streams ("DynamoDBStreams_20120810.").
enum class Api { kDynamoDB, kStreams };

class DynamoClient {
 public:
  virtual ~DynamoClient() = default;
  // Calls `operation` (e.g. "PutItem", "GetRecords") with the JSON object `request`; returns
  // the response body (a JSON object).
  virtual Result<std::string> Call(Api api, std::string_view operation,
                                   std::string_view request) = 0;
  // The engine's region (for ARNs and stream records).
  virtual std::string region() const = 0;
};

}  // namespace cruddur::dynamo
