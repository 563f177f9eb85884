// Internal to dynamo/expr: DynamoDB's reserved words. Thread-safe (immutable table).
#pragma once

#include <string_view>

namespace cruddur::dynamo::expr::internal {

// True when `name` is a reserved word, compared case-insensitively as the guide says.
bool IsReservedWord(std::string_view name);

}  // namespace cruddur::dynamo::expr::internal
