// IAM policy grammar and evaluation. References: IAM User Guide, "IAM JSON policy elements
// reference" (Version, Id, Statement, Sid, Effect, Action/NotAction, Resource/NotResource,
// Condition), "IAM JSON policy elements: Condition operators" (string operators, IfExists,
// Null), "Multivalued context keys" (ForAllValues / ForAnyValue), and "Policy evaluation
// logic" (explicit deny, then allow, else implicit deny).
#include "dynamo/auth/policy.h"

#include <algorithm>
#include <cctype>

namespace cruddur::dynamo::auth {
namespace {

using Op = ConditionClause::Op;
using SetQualifier = ConditionClause::SetQualifier;

// Bounds on what one policy may hold: IAM's own limits are far lower (an inline user policy is
// at most 2,048 characters, a managed one 6,144), these only stop absurd files.
constexpr size_t kMaxStatements = 1000;
constexpr size_t kMaxValuesPerElement = 1000;
constexpr size_t kMaxPatternLength = 2048;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Invalid(std::string_view what, std::string_view message) {
  return ValidationError(std::string(what) + ": " + std::string(message));
}

// A string or a non-empty array of strings (Action, Resource), as IAM accepts both forms.
Result<std::vector<std::string>> StringOrList(const json::Value& v, std::string_view what,
                                              std::string_view element) {
  std::vector<std::string> out;
  auto add = [&](const json::Value& s) -> Status {
    if (!s.IsString()) {
      return Invalid(what, std::string(element) + " must be a string or a list of strings");
    }
    if (s.GetStringLength() == 0 || s.GetStringLength() > kMaxPatternLength) {
      return Invalid(what, std::string(element) + " values must be 1 to " +
                               std::to_string(kMaxPatternLength) + " characters");
    }
    out.emplace_back(s.GetString(), s.GetStringLength());
    return Status::Ok();
  };
  if (v.IsArray()) {
    if (v.Empty()) return Invalid(what, std::string(element) + " must not be an empty list");
    if (v.Size() > kMaxValuesPerElement) {
      return Invalid(what, std::string(element) + " has too many values");
    }
    for (const auto& s : v.GetArray()) CRUDDUR_RETURN_IF_ERROR(add(s));
  } else {
    CRUDDUR_RETURN_IF_ERROR(add(v));
  }
  return out;
}

Status CheckNoVariables(std::string_view value, std::string_view what) {
  if (value.find("${") != std::string_view::npos) {
    return Invalid(what,
                   "policy variables (\"${...}\") are not supported: '" + std::string(value) + "'");
  }
  return Status::Ok();
}

Status CheckAction(std::string_view action, std::string_view what) {
  if (action == "*") return Status::Ok();
  size_t colon = action.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == action.size()) {
    return Invalid(what, "Action '" + std::string(action) +
                             "' must be \"*\" or \"<service>:<action>\", e.g. dynamodb:GetItem");
  }
  for (char c : action.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return Invalid(what, "Action '" + std::string(action) + "' has an invalid service prefix");
    }
  }
  return Status::Ok();
}

Status CheckResource(std::string_view resource, std::string_view what) {
  if (resource == "*") return Status::Ok();
  if (resource.substr(0, 4) != "arn:" || std::count(resource.begin(), resource.end(), ':') < 5) {
    return Invalid(what, "Resource '" + std::string(resource) +
                             "' must be \"*\" or an ARN (arn:partition:service:region:account:"
                             "resource)");
  }
  return CheckNoVariables(resource, what);
}

Result<ConditionClause> ParseOperator(std::string_view name, std::string_view what) {
  ConditionClause clause;
  std::string_view rest = name;
  if (rest.substr(0, 13) == "ForAllValues:") {
    clause.qualifier = SetQualifier::kForAllValues;
    rest.remove_prefix(13);
  } else if (rest.substr(0, 12) == "ForAnyValue:") {
    clause.qualifier = SetQualifier::kForAnyValue;
    rest.remove_prefix(12);
  }
  constexpr std::string_view kIfExists = "IfExists";
  if (rest.size() > kIfExists.size() && rest.substr(rest.size() - kIfExists.size()) == kIfExists) {
    clause.if_exists = true;
    rest.remove_suffix(kIfExists.size());
  }
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"StringEquals", Op::kStringEquals},
      {"StringNotEquals", Op::kStringNotEquals},
      {"StringEqualsIgnoreCase", Op::kStringEqualsIgnoreCase},
      {"StringNotEqualsIgnoreCase", Op::kStringNotEqualsIgnoreCase},
      {"StringLike", Op::kStringLike},
      {"StringNotLike", Op::kStringNotLike},
      {"Null", Op::kNull},
  };
  for (const auto& [op_name, op] : kOps) {
    if (rest == op_name) {
      clause.op = op;
      if (op == Op::kNull && (clause.if_exists || clause.qualifier != SetQualifier::kNone)) {
        break;  // IAM: Null takes neither a set qualifier nor IfExists
      }
      return clause;
    }
  }
  return Invalid(what, "unsupported condition operator '" + std::string(name) +
                           "' (supported: StringEquals, StringNotEquals, StringEqualsIgnoreCase, "
                           "StringNotEqualsIgnoreCase, StringLike, StringNotLike with optional "
                           "ForAllValues:/ForAnyValue: and IfExists, and Null)");
}

Status ParseConditionBlock(const json::Value& block, std::string_view what,
                           std::vector<ConditionClause>* out) {
  if (!block.IsObject()) return Invalid(what, "Condition must be an object");
  for (const auto& op_member : block.GetObject()) {
    std::string_view op_name(op_member.name.GetString(), op_member.name.GetStringLength());
    CRUDDUR_ASSIGN_OR_RETURN(ConditionClause prototype, ParseOperator(op_name, what));
    if (!op_member.value.IsObject() || op_member.value.ObjectEmpty()) {
      return Invalid(what, "Condition operator '" + std::string(op_name) +
                               "' must map condition keys to values");
    }
    for (const auto& key_member : op_member.value.GetObject()) {
      ConditionClause clause = prototype;
      std::string_view key(key_member.name.GetString(), key_member.name.GetStringLength());
      if (key.empty() || key.find(':') == std::string_view::npos) {
        return Invalid(what, "condition key '" + std::string(key) +
                                 "' must be \"<prefix>:<name>\", e.g. dynamodb:LeadingKeys");
      }
      clause.key = Lower(key);
      const json::Value& v = key_member.value;
      std::vector<const json::Value*> raw;
      if (v.IsArray()) {
        if (v.Empty() || v.Size() > kMaxValuesPerElement) {
          return Invalid(what, "condition key '" + std::string(key) + "' needs 1 to " +
                                   std::to_string(kMaxValuesPerElement) + " values");
        }
        for (const auto& e : v.GetArray()) raw.push_back(&e);
      } else {
        raw.push_back(&v);
      }
      for (const json::Value* e : raw) {
        // IAM accepts booleans and numbers as condition values and compares their text.
        std::string text;
        if (e->IsString()) {
          text.assign(e->GetString(), e->GetStringLength());
        } else if (e->IsBool()) {
          text = e->GetBool() ? "true" : "false";
        } else if (e->IsNumber()) {
          text = json::ToString(*e);
        } else {
          return Invalid(what, "condition key '" + std::string(key) +
                                   "' values must be strings, numbers or booleans");
        }
        if (text.size() > kMaxPatternLength) {
          return Invalid(what, "condition value too long for '" + std::string(key) + "'");
        }
        CRUDDUR_RETURN_IF_ERROR(CheckNoVariables(text, what));
        if (clause.op == Op::kNull && text != "true" && text != "false") {
          return Invalid(what, "Null condition values must be true or false");
        }
        clause.values.push_back(std::move(text));
      }
      out->push_back(std::move(clause));
    }
  }
  return Status::Ok();
}

Result<Statement> ParseStatement(const json::Value& v, std::string_view what) {
  if (!v.IsObject()) return Invalid(what, "a Statement must be an object");
  Statement st;
  bool has_effect = false, has_action = false, has_resource = false;
  for (const auto& m : v.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "Sid") {
      if (!m.value.IsString()) return Invalid(what, "Sid must be a string");
      st.sid = m.value.GetString();
    } else if (name == "Effect") {
      std::string_view effect = m.value.IsString() ? m.value.GetString() : "";
      if (effect == "Allow") {
        st.effect = Effect::kAllow;
      } else if (effect == "Deny") {
        st.effect = Effect::kDeny;
      } else {
        return Invalid(what, "Effect must be \"Allow\" or \"Deny\"");
      }
      has_effect = true;
    } else if (name == "Action" || name == "NotAction") {
      if (has_action) return Invalid(what, "a Statement takes Action or NotAction, not both");
      has_action = true;
      st.not_action = name == "NotAction";
      CRUDDUR_ASSIGN_OR_RETURN(st.actions, StringOrList(m.value, what, name));
      for (const std::string& a : st.actions) CRUDDUR_RETURN_IF_ERROR(CheckAction(a, what));
    } else if (name == "Resource" || name == "NotResource") {
      if (has_resource) {
        return Invalid(what, "a Statement takes Resource or NotResource, not both");
      }
      has_resource = true;
      st.not_resource = name == "NotResource";
      CRUDDUR_ASSIGN_OR_RETURN(st.resources, StringOrList(m.value, what, name));
      for (const std::string& r : st.resources) CRUDDUR_RETURN_IF_ERROR(CheckResource(r, what));
    } else if (name == "Condition") {
      CRUDDUR_RETURN_IF_ERROR(ParseConditionBlock(m.value, what, &st.conditions));
    } else if (name == "Principal" || name == "NotPrincipal") {
      return Invalid(what, std::string(name) +
                               " is not allowed in an identity-based policy (the principal is "
                               "the one the policy is attached to)");
    } else {
      return Invalid(what, "unknown Statement element '" + std::string(name) + "'");
    }
  }
  if (!has_effect) return Invalid(what, "a Statement needs an Effect");
  if (!has_action) return Invalid(what, "a Statement needs an Action or NotAction");
  if (!has_resource) return Invalid(what, "a Statement needs a Resource or NotResource");
  return st;
}

bool ActionMatches(const Statement& st, std::string_view action) {
  bool any = std::any_of(st.actions.begin(), st.actions.end(), [&](const std::string& p) {
    return WildcardMatch(p, action, /*ignore_case=*/true);
  });
  return any != st.not_action;
}

bool ResourceMatchesStatement(const Statement& st, std::string_view resource) {
  bool any = std::any_of(st.resources.begin(), st.resources.end(),
                         [&](const std::string& p) { return ResourceMatches(p, resource); });
  return any != st.not_resource;
}

bool ValueMatches(Op op, std::string_view pattern, std::string_view value) {
  switch (op) {
    case Op::kStringEquals:
    case Op::kStringNotEquals:
      return pattern == value;
    case Op::kStringEqualsIgnoreCase:
    case Op::kStringNotEqualsIgnoreCase:
      return Lower(pattern) == Lower(value);
    case Op::kStringLike:
    case Op::kStringNotLike:
      return WildcardMatch(pattern, value, /*ignore_case=*/false);
    case Op::kNull:
      break;
  }
  return false;
}

bool IsNegated(Op op) {
  return op == Op::kStringNotEquals || op == Op::kStringNotEqualsIgnoreCase ||
         op == Op::kStringNotLike;
}

bool ClauseHolds(const ConditionClause& clause, const ConditionKeys* keys) {
  const std::vector<std::string>* values = nullptr;
  if (keys != nullptr) {
    auto it = keys->find(clause.key);
    if (it != keys->end()) values = &it->second;
  }
  if (clause.op == Op::kNull) {
    // "true" asks that the key be absent, "false" that it be present; the values are ORed.
    bool absent = values == nullptr;
    return std::any_of(clause.values.begin(), clause.values.end(),
                       [&](const std::string& v) { return (v == "true") == absent; });
  }
  if (values == nullptr && clause.if_exists) return true;
  const bool negated = IsNegated(clause.op);
  // Whether one request value matches the clause: for a positive operator, some policy value
  // matches it; for a negated one, no policy value does.
  auto value_holds = [&](const std::string& value) {
    bool any = std::any_of(clause.values.begin(), clause.values.end(),
                           [&](const std::string& p) { return ValueMatches(clause.op, p, value); });
    return any != negated;
  };
  switch (clause.qualifier) {
    case SetQualifier::kForAllValues:
      return values == nullptr || std::all_of(values->begin(), values->end(), value_holds);
    case SetQualifier::kForAnyValue:
      return values != nullptr && std::any_of(values->begin(), values->end(), value_holds);
    case SetQualifier::kNone:
      break;
  }
  if (values == nullptr || values->empty()) return negated;
  if (negated) return std::all_of(values->begin(), values->end(), value_holds);
  return std::any_of(values->begin(), values->end(), value_holds);
}

bool StatementApplies(const Statement& st, const AccessRequest& request) {
  if (!ActionMatches(st, request.action)) return false;
  if (!ResourceMatchesStatement(st, request.resource)) return false;
  return std::all_of(st.conditions.begin(), st.conditions.end(),
                     [&](const ConditionClause& c) { return ClauseHolds(c, request.keys); });
}

// Splits an ARN into its six segments (the resource segment keeps any further ':').
bool SplitArn(std::string_view arn, std::string_view (&parts)[6]) {
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  parts[5] = arn;
  return true;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto eq = [ignore_case](char a, char b) {
    if (!ignore_case) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  // Iterative glob with one backtrack point: linear in practice, never exponential.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ResourceMatches(std::string_view pattern, std::string_view resource) {
  if (pattern == "*") return true;
  std::string_view want[6], have[6];
  if (!SplitArn(pattern, want) || !SplitArn(resource, have)) return false;
  for (int i = 0; i < 6; ++i) {
    if (!WildcardMatch(want[i], have[i], /*ignore_case=*/false)) return false;
  }
  return true;
}

Result<Policy> ParsePolicy(const json::Value& document, std::string_view what) {
  if (!document.IsObject()) return Invalid(what, "a policy document must be a JSON object");
  Policy policy;
  bool has_statement = false;
  for (const auto& m : document.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "Version") {
      std::string_view version = m.value.IsString() ? m.value.GetString() : "";
      if (version != "2012-10-17" && version != "2008-10-17") {
        return Invalid(what, "Version must be \"2012-10-17\" (or the older \"2008-10-17\")");
      }
      policy.version = version;
    } else if (name == "Id") {
      if (!m.value.IsString()) return Invalid(what, "Id must be a string");
    } else if (name == "Statement") {
      has_statement = true;
      std::vector<const json::Value*> statements;
      if (m.value.IsArray()) {
        if (m.value.Size() > kMaxStatements) return Invalid(what, "too many statements");
        for (const auto& s : m.value.GetArray()) statements.push_back(&s);
      } else {
        statements.push_back(&m.value);
      }
      for (size_t i = 0; i < statements.size(); ++i) {
        std::string where = std::string(what) + ", statement " + std::to_string(i + 1);
        CRUDDUR_ASSIGN_OR_RETURN(Statement st, ParseStatement(*statements[i], where));
        policy.statements.push_back(std::move(st));
      }
    } else {
      return Invalid(what, "unknown policy element '" + std::string(name) + "'");
    }
  }
  if (!has_statement) return Invalid(what, "a policy needs a Statement");
  return policy;
}

Result<Policy> ParsePolicyText(std::string_view text, std::string_view what) {
  json::Document doc;
  Status parsed = json::Parse(text, &doc);
  if (!parsed.ok()) return Invalid(what, "not JSON: " + parsed.message());
  return ParsePolicy(doc, what);
}

Decision Evaluate(std::span<const Policy> policies, const AccessRequest& request) {
  bool allowed = false;
  for (const Policy& policy : policies) {
    for (const Statement& st : policy.statements) {
      if (!StatementApplies(st, request)) continue;
      if (st.effect == Effect::kDeny) return Decision::kExplicitDeny;
      allowed = true;
    }
  }
  return allowed ? Decision::kAllow : Decision::kImplicitDeny;
}

}  // namespace cruddur::dynamo::auth
