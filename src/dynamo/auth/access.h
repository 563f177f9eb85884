// What a DynamoDB or DynamoDB Streams request asks permission for, in IAM's terms, and the
// decision for one principal.
//
// Each request becomes a list of AccessChecks (action, resource, condition keys); the request
// is allowed only if every check is (Developer Guide, "Identity-based policies for DynamoDB",
// "Using IAM policy conditions for fine-grained access control", "Using IAM with DynamoDB
// transactions", and the Service Authorization Reference for DynamoDB):
//   - most operations: dynamodb:<Operation> on the table ARN;
//   - Query/Scan with IndexName: on the index ARN (table/T/index/I);
//   - BatchGetItem/BatchWriteItem: dynamodb:BatchGetItem/BatchWriteItem on every table named;
//   - TransactGetItems/TransactWriteItems: the underlying dynamodb:GetItem, PutItem,
//     UpdateItem, DeleteItem, ConditionCheckItem per table, with dynamodb:EnclosingOperation;
//   - DescribeStream/GetShardIterator/GetRecords: the stream ARN (from the iterator for
//     GetRecords); ListTables and ListStreams: "*".
// Condition keys, where the request carries them:
//   dynamodb:LeadingKeys  the partition key values the request touches (S as is, N canonical,
//                         B base64): Key/Item of item operations, the partition key equality
//                         of a Query (KeyConditionExpression or KeyConditions);
//   dynamodb:Attributes   top-level attribute names the request reads or writes: item and key
//                         attribute names, projection, update, condition and filter names,
//                         and the legacy AttributesToGet/AttributeUpdates/Expected/...Filter;
//   dynamodb:Select, dynamodb:ReturnValues, dynamodb:ReturnConsumedCapacity  as sent;
//   dynamodb:EnclosingOperation  for the items of a transaction.
// A request too malformed to name its table still produces checks (with an empty table
// name): authorization is never skipped; the operation then rejects the request itself.
// Keys are absent when they cannot be known (no such table, an unparsable expression): the
// operation then fails on its own. A table created between the check and the operation is the
// one window where LeadingKeys may be absent for a request that succeeds.
//
// Thread-safety: DescribeAccess reads the engine's catalog (thread-safe); Authorize is pure.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/auth/auth_config.h"
#include "dynamo/auth/policy.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::auth {

struct AccessCheck {
  std::string action;    // "dynamodb:PutItem"
  std::string resource;  // an ARN, or "*"
  ConditionKeys keys;
};

// Where the engine's ARNs live: arn:aws:dynamodb:<region>:<account_id>:table/...
struct ArnScope {
  std::string region;
  std::string account_id;
};

enum class ApiFamily { kDynamoDB, kStreams };

// The checks for `operation` (e.g. "PutItem") of `family` with the parsed body `request`.
// `engine` supplies table key schemas (for LeadingKeys).
std::vector<AccessCheck> DescribeAccess(ApiFamily family, std::string_view operation,
                                        const json::Value& request, const storage::Engine& engine,
                                        const ArnScope& scope);

// Ok when `principal`'s policies allow every check; otherwise AccessDeniedException for the
// first check that is not allowed, worded as AWS words it:
//   "User: <arn> is not authorized to perform: <action> on resource: <resource> because no
//    identity-based policy allows the <action> action", or
//   "... on resource: <resource> with an explicit deny in an identity-based policy".
Status Authorize(const Principal& principal, std::span<const AccessCheck> checks);

}  // namespace cruddur::dynamo::auth
