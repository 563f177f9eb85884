// DynamoDB's legacy (non-expression) request parameters (API Reference: "Legacy conditional
// parameters"): Expected, QueryFilter, ScanFilter and ConditionalOperator, AttributeUpdates and
// KeyConditions. Each is validated with DynamoDB's texts and then turned into the equivalent
// expression, so the evaluation paths for expressions do all the work: conditions and updates
// become expression text over generated placeholders (#l0, :l0, ...) parsed with a fresh
// ExpressionAttributes (the service refuses expression attribute names and values alongside
// legacy parameters, so nothing of the user's can clash with them); KeyConditions becomes the
// expr::KeyCondition a KeyConditionExpression parses into.
//
// Thread-safety: pure functions. Ownership: results are values and refer to nothing in the
// request.
//
// Failure modes: ValidationException with DynamoDB's texts ("One or more parameter values were
// invalid: Invalid number of argument(s) for the EQ ComparisonOperator", ...); attribute value
// decoding errors as the wire codec words them. A legacy parameter whose equivalent expression
// would exceed an expression limit (4096 characters, 300 operators) fails with that limit's
// "Invalid ConditionExpression: ..." / "Invalid UpdateExpression: ..." text.
#pragma once

#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/expr/expr.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::api {

// Request shapes of the legacy parameters, for an operation's CheckShape model.
Shape ExpectedShape();                      // "Expected": map of ExpectedAttributeValue
Shape ConditionMapShape(std::string name);  // "KeyConditions"/"QueryFilter"/"ScanFilter"
Shape AttributeUpdatesShape();              // "AttributeUpdates": map of AttributeValueUpdate

// The legacy parameter a condition comes from; ConditionalOperator combines its entries.
enum class LegacyConditionParam { kExpected, kQueryFilter, kScanFilter };

// The request member name of `param` ("Expected", "QueryFilter", "ScanFilter").
std::string_view LegacyConditionParamName(LegacyConditionParam param);

// The condition the request's `param` and ConditionalOperator (default AND) express; an empty
// (always true) Condition when the request has neither. Entries are validated in request
// order before ConditionalOperator is ("ConditionalOperator cannot be used without Filter or
// Expected", "ConditionalOperator can only be used when Filter or Expected has two or more
// elements"). The caller has already refused mixing with expression parameters.
Result<expr::Condition> LegacyCondition(const json::Value& request, LegacyConditionParam param);

// The update the request's AttributeUpdates expresses (an empty Update when absent), for a
// table whose primary key is `key`: entries are checked in request order, including "Cannot
// update attribute pk. This attribute is part of the key".
Result<expr::Update> LegacyAttributeUpdates(const json::Value& request,
                                            const storage::KeySchema& key);

// Turns the data type error of applying a LegacyAttributeUpdates update (expr::ApplyUpdate's
// "An operand in the update expression has an incorrect data type") into the legacy text,
// "Type mismatch for attribute to update"; other statuses pass through.
Status LegacyUpdateStatus(Status status);

// The key condition a Query's KeyConditions expresses against the table or index keys `key`.
// Checks the entries, then the schema ("Query condition missed key schema element", "Query key
// condition not supported", "Attempted conditional constraint is not an indexable operation").
// Value types against the schema are the caller's check, as for KeyConditionExpression.
Result<expr::KeyCondition> LegacyKeyConditions(const json::Value& key_conditions,
                                               const storage::KeySchema& key);

}  // namespace cruddur::dynamo::api
