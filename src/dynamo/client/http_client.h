// The HTTP DynamoDB client: DynamoClient over the DynamoDB JSON 1.0 protocol, for AWS
// DynamoDB, ScyllaDB Alternator or another `cruddur dynamodb`.
//
// Each call is `POST <endpoint path>` with `Content-Type: application/x-amz-json-1.0`,
// `X-Amz-Target: DynamoDB_20120810.<Op>` (or `DynamoDBStreams_20120810.<Op>`), signed with
// SigV4 for service "dynamodb" (also for the Streams API: AWS signs DynamoDB Streams with the
// signing name "dynamodb").
//
// Retries (the AWS SDKs' "Retry behavior"; botocore's legacy DynamoDB policy): throttling
// errors (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded and
// the other throttling names), TransactionInProgressException, HTTP 5xx/429/509, connection
// and timeout errors and an `x-amz-crc32` mismatch are retried up to max_attempts in all,
// sleeping a capped exponential backoff with full jitter: uniform in
// [0, min(max_backoff, base_backoff * 2^retry)). Retrying TransactWriteItems is idempotent:
// a request without a ClientRequestToken is given one before the first attempt, so every
// attempt carries the same token and the engine applies the transaction at most once.
//
// Errors follow client.h: an answered error becomes a Status with ErrorCodeFromName of the
// `__type` suffix (unknown names: kInternal naming the type), the engine's message, and the
// body's other members in details_json. Transport failures, a response that is not a DynamoDB
// answer, and a checksum that still mismatches after the last attempt are kIo. After the
// last attempt the last failure is returned.
//
// Connections are reused: a pool of libcurl easy handles, each keeping its connection to the
// endpoint alive, taken by one call at a time.
//
// Thread-safety: Call may be used from any number of threads at once. Ownership: the client
// owns its handles; the seams in the options must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "common/status.h"
#include "dynamo/client/aws_config.h"
#include "dynamo/client/client.h"

namespace cruddur::dynamo {

struct HttpDynamoClientOptions {
  // Scheme, host, optional port and optional path: "https://dynamodb.us-east-1.amazonaws.com",
  // "http://127.0.0.1:8000". http and https only.
  std::string endpoint;
  std::string region;
  aws::Credentials credentials;

  // Total attempts per call, the first included (botocore's DynamoDB default is 10).
  int max_attempts = 10;
  std::chrono::milliseconds base_backoff{50};    // botocore's DynamoDB base delay
  std::chrono::milliseconds max_backoff{20000};  // the SDKs' standard cap
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};  // whole attempt, connect included
  int max_idle_connections = 16;                     // idle handles kept in the pool
  // Largest response body accepted; DynamoDB's answers are bounded by its 16 MB request limit
  // and 1 MB pages, so anything bigger is not a DynamoDB answer.
  size_t max_response_bytes = 32 << 20;

  // Seams for tests. Defaults: the system clock, std::this_thread::sleep_for, and a random
  // number generator per thread. `random_unit` returns a value in [0, 1).
  std::function<int64_t()> now_unix_seconds;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> random_unit;
};

// Options from a resolved AWS configuration (aws_config.h); retry and timeout settings keep
// their defaults unless the configuration sets max attempts.
HttpDynamoClientOptions OptionsFromConfig(const DynamoClientConfig& config);

class HttpDynamoClient : public DynamoClient {
 public:
  // Validates the options (endpoint URL, region, credentials, bounds); fails with kValidation.
  static Result<std::unique_ptr<HttpDynamoClient>> Create(HttpDynamoClientOptions options);
  ~HttpDynamoClient() override;

  Result<std::string> Call(Api api, std::string_view operation, std::string_view request) override;
  std::string region() const override;

 private:
  struct Impl;
  explicit HttpDynamoClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cruddur::dynamo
