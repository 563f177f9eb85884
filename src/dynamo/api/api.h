// The DynamoDB operations, one function each, over the storage engine. Input is the request's
// parsed JSON body; output is written as the response's JSON object. Every operation checks its
// input shape (request_shape.h), then its own rules, with DynamoDB's error types and texts.
//
// Thread-safety: operations may run concurrently on any threads; ApiContext is shared and
// read-only apart from the thread-safe members it points to.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::api {

class IdempotencyCache;

struct ApiContext {
  storage::Engine* engine = nullptr;  // not owned
  std::string region = "us-east-1";
  std::string account_id = "000000000000";  // as DynamoDB Local, so ARNs look like AWS's
  // Wall clock in microseconds since the epoch (a seam for tests).
  std::function<int64_t()> now_micros;
  IdempotencyCache* idempotency = nullptr;  // TransactWriteItems ClientRequestToken; owned by
                                            // the DynamoService
};

using Operation = Status (*)(ApiContext& ctx, const json::Value& request, json::Writer* out);

// The operation named `name` (e.g. "PutItem"), or nullptr.
Operation FindOperation(std::string_view name);

Status CreateTable(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DescribeTable(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status ListTables(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DeleteTable(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status UpdateTable(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status PutItem(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status GetItem(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DeleteItem(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status UpdateItem(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status Query(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status Scan(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status BatchWriteItem(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status BatchGetItem(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status TransactWriteItems(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status TransactGetItems(ApiContext& ctx, const json::Value& request, json::Writer* out);
// PartiQL (partiql.cc).
Status ExecuteStatement(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status BatchExecuteStatement(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status ExecuteTransaction(ApiContext& ctx, const json::Value& request, json::Writer* out);
// Time to Live, tags, point-in-time recovery and account limits (admin.cc).
Status UpdateTimeToLive(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DescribeTimeToLive(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status TagResource(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status UntagResource(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status ListTagsOfResource(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status UpdateContinuousBackups(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DescribeContinuousBackups(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DescribeLimits(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DescribeEndpoints(ApiContext& ctx, const json::Value& request, json::Writer* out);

}  // namespace cruddur::dynamo::api
