// IAM identity-based policies: parsing (strict) and evaluation, as AWS IAM evaluates the
// identity policies attached to one principal (IAM User Guide, "Policy evaluation logic" and
// "IAM JSON policy elements reference"):
//   - a request is allowed only if some statement allows it and no statement denies it:
//     an explicit Deny wins over any Allow; without an Allow the request is implicitly denied;
//   - a statement applies when its Action (or NotAction), its Resource (or NotResource) and
//     every one of its Conditions match;
//   - Action patterns match case-insensitively with `*` and `?` wildcards ("dynamodb:Get*");
//     Resource patterns match case-sensitively, ARN segment by ARN segment, with `*` and `?`;
//   - Condition: operators are ANDed, the keys under one operator are ANDed, the values of
//     one key are ORed. Supported operators: StringEquals, StringNotEquals,
//     StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike (each with
//     the ForAllValues: / ForAnyValue: set qualifiers and the IfExists suffix), and Null.
//     A key missing from the request makes a positive operator false and a negated one true;
//     ForAllValues over a missing or empty key is true, ForAnyValue over one is false (IAM's
//     documented semantics; the reason AWS pairs ForAllValues with a Null check or a Deny).
//     Condition key names compare case-insensitively, values case-sensitively (except the
//     IgnoreCase operators).
//
// Parsing is strict so that a policy never means less than its author thought: unknown
// elements, a Principal (not allowed in identity policies), an Effect other than Allow/Deny,
// both or neither of Action/NotAction, both or neither of Resource/NotResource, malformed
// actions or ARNs, and unknown condition operators are errors (kValidation) naming the
// statement and the element. Policy variables (${...}) are not supported and are rejected.
//
// Thread-safety: Policy is an immutable value once parsed; Evaluate is pure.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace cruddur::dynamo::auth {

enum class Effect { kAllow, kDeny };

// One operator/key pair of a Condition block, e.g. ForAllValues:StringEquals on
// dynamodb:LeadingKeys with its values.
struct ConditionClause {
  enum class Op {
    kStringEquals,
    kStringNotEquals,
    kStringEqualsIgnoreCase,
    kStringNotEqualsIgnoreCase,
    kStringLike,
    kStringNotLike,
    kNull,
  };
  enum class SetQualifier { kNone, kForAllValues, kForAnyValue };
  Op op = Op::kStringEquals;
  SetQualifier qualifier = SetQualifier::kNone;
  bool if_exists = false;
  std::string key;  // lower-cased, e.g. "dynamodb:leadingkeys"
  std::vector<std::string> values;
};

struct Statement {
  std::string sid;
  Effect effect = Effect::kAllow;
  bool not_action = false;
  std::vector<std::string> actions;  // patterns; "*" or "service:pattern"
  bool not_resource = false;
  std::vector<std::string> resources;  // patterns; "*" or ARNs with wildcards
  std::vector<ConditionClause> conditions;
};

struct Policy {
  std::string version;  // "2012-10-17", "2008-10-17", or empty when not given
  std::vector<Statement> statements;
};

// Parses an IAM policy document (a JSON object). `what` names the policy in error messages,
// e.g. "policy 1 of user lambda".
Result<Policy> ParsePolicy(const json::Value& document, std::string_view what);
// Same for JSON text.
Result<Policy> ParsePolicyText(std::string_view text, std::string_view what);

// Condition keys of a request: lower-cased key name -> values. A key that is absent is not
// in the map; a key present with no values is an empty set (e.g. a BatchGetItem without keys).
using ConditionKeys = std::map<std::string, std::vector<std::string>, std::less<>>;

// One authorization question: may the principal perform `action` on `resource`?
struct AccessRequest {
  std::string_view action;              // "dynamodb:PutItem"
  std::string_view resource;            // "arn:aws:dynamodb:us-east-1:123456789012:table/T" or "*"
  const ConditionKeys* keys = nullptr;  // may be null: no condition keys
};

enum class Decision { kAllow, kImplicitDeny, kExplicitDeny };

// IAM's identity-policy decision over all of a principal's policies.
Decision Evaluate(std::span<const Policy> policies, const AccessRequest& request);

// `*` matches any run of characters (including none), `?` exactly one. Exposed for tests.
bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case);
// Resource matching: "*" matches everything; otherwise pattern and resource are split into
// the six ARN segments (the last may hold ':') and matched segment by segment.
bool ResourceMatches(std::string_view pattern, std::string_view resource);

}  // namespace cruddur::dynamo::auth
