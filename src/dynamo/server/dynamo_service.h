// The DynamoDB JSON 1.0 protocol over HTTP: turns an HTTP request into an operation call and
// its result (or error) into the HTTP response AWS clients expect.
//
// Request handling, in the order the service checks (dynalite documents the live service's
// order): GET -> health answer; not POST or a foreign Content-Type -> 404
// UnknownOperationException; body not JSON -> SerializationException; X-Amz-Target not
// `DynamoDB_20120810.<Operation>` -> UnknownOperationException; no or malformed SigV4
// Authorization -> MissingAuthenticationToken / IncompleteSignature; then the operation.
//
// Authentication and authorization (DynamoServiceOptions::auth, off by default). Off, any
// well-formed SigV4 Authorization header is accepted unchecked, as DynamoDB Local does. On,
// every DynamoDB and DynamoDB Streams request is verified with SigV4 (service "dynamodb", the
// configured region, 15 minutes of clock skew) against the auth file's access keys:
//   no Authorization header               -> MissingAuthenticationTokenException
//   malformed header / no X-Amz-Date      -> IncompleteSignatureException
//   unknown access key, or a session token
//     that is not the principal's         -> UnrecognizedClientException ("The security token
//                                            included in the request is invalid.")
//   wrong scope, skew, or signature       -> InvalidSignatureException
// and then authorized against the principal's identity policies (dynamo/auth/access.h):
// AccessDeniedException in AWS's wording. All of these are HTTP 400, as the Developer Guide's
// "Error handling with DynamoDB" lists them for DynamoDB. With auth on, the engine's account id
// (in TableArn, stream ARNs and policy resources) is the auth file's AccountId.
// Every response carries x-amzn-RequestId and x-amz-crc32 (the CRC32 of the body, which the
// AWS SDKs verify).
//
// Errors are rendered here and only here: {"__type":"com.amazonaws.dynamodb.v20120810#<Name>",
// "message":"..."} plus any details (CancellationReasons, Item), HTTP 400, or 500 for internal
// faults. An exception escaping an operation (which would be a bug) becomes an
// InternalServerError, never a crash.
//
// Durability: an answer acknowledges only durable writes. By default a commit is durable once
// written (storage/engine.h: it survives a crash of the process) and the answer goes out at
// once. With the engine's EngineOptions::sync, Handle runs the operation in a
// storage::Engine::DeferredCommits scope, so the event loop never waits for an fsync: when the
// operation committed anything, the response is deferred (an HttpResponse::stream) - status and
// headers go out at once, the body, which is what any client waits for, once the engine's group
// commit has fsynced the log past the operation's writes. Such a response has no
// Content-Length (chunked) and closes its connection (Connection: close): the client reconnects
// for its next request. Should the fsync fail, the process aborts (see AnswerWhenDurable in the
// .cc), so no client ever reads a complete answer for a write that may be lost. Reads are never
// deferred. Execute (in-process callers) blocks its caller until the fsync instead.
//
// Thread-safety: Handle may be called concurrently from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "dynamo/api/api.h"
#include "dynamo/auth/auth_config.h"
#include "dynamo/client/client.h"
#include "dynamo/storage/engine.h"
#include "net/http_server.h"

namespace cruddur::dynamo {

struct DynamoServiceOptions {
  std::string region = "us-east-1";
  // Credentials and policies every request is checked against; null = no checks (default).
  std::shared_ptr<const auth::AuthConfig> auth;
  // Seconds since the epoch for SigV4's clock-skew check; the system clock when empty.
  std::function<int64_t()> now_seconds;
  // Fault injection for testing clients' retries (`cruddur dynamodb --inject-throttling N`):
  // with N > 0, of every N + 1 item and stream-record requests (control-plane operations are
  // never refused) the first N are answered ProvisionedThroughputExceededException, as a
  // throttled table would be. 0 = off.
  int inject_throttling = 0;
};

class DynamoService {
 public:
  // `engine` must outlive the service.
  DynamoService(storage::Engine* engine, DynamoServiceOptions options);
  ~DynamoService();

  void Handle(const net::HttpRequest& request, net::HttpResponse* response);

  // Runs one operation on a JSON body without HTTP (no signature check): the response body or
  // the error. For the in-process client (LocalDynamoClient) and tests. With
  // EngineOptions::sync, returns once the operation's writes are fsynced.
  Result<std::string> Execute(Api api, std::string_view operation, std::string_view body);
  const std::string& region() const;

  // The error body for `status`, as sent on the wire.
  static std::string ErrorBody(const Status& status);
  // The body of a refused request (limits hit in the HTTP layer), e.g. an oversized body.
  static net::HttpResponse RefusedResponse(net::HttpErrorKind kind);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cruddur::dynamo
