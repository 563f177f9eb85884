// Loading the auth file. IAM's own rules inform the checks: access key ids are alphanumeric
// (we also allow '_' and '-' for readable local keys), account ids are 12 digits, user and role
// names are at most 64 characters of [\w+=,.@-] (IAM User Guide, "IAM object quotas" and
// "IAM identifiers").
#include "dynamo/auth/auth_config.h"

#include <cctype>
#include <fstream>

namespace cruddur::dynamo::auth {
namespace {

constexpr size_t kMaxFileBytes = size_t{4} << 20;
constexpr size_t kMaxPrincipals = 10000;
constexpr size_t kMaxPoliciesPerPrincipal = 100;

Status Invalid(std::string_view where, std::string_view message) {
  return ValidationError(std::string(where) + ": " + std::string(message));
}

Result<std::string> RequiredString(const json::Value& v, std::string_view name,
                                   std::string_view where, size_t max_length) {
  if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > max_length) {
    return Invalid(where, std::string(name) + " must be a string of 1 to " +
                              std::to_string(max_length) + " characters");
  }
  return std::string(v.GetString(), v.GetStringLength());
}

bool IsIamName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("_+=,.@-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

Status ParsePolicies(const json::Value& v, std::string_view where, std::vector<Policy>* out) {
  if (!v.IsArray()) return Invalid(where, "Policies must be a list of policy documents");
  if (v.Size() > kMaxPoliciesPerPrincipal) return Invalid(where, "too many Policies");
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const json::Value& entry = v[i];
    std::string what = std::string(where) + ", policy " + std::to_string(i + 1);
    const json::Value* document = &entry;
    if (entry.IsObject() && entry.HasMember("PolicyDocument")) {
      // The named form, as `aws iam get-user-policy` prints it.
      for (const auto& m : entry.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (name == "PolicyName") {
          if (!m.value.IsString()) return Invalid(what, "PolicyName must be a string");
          what = std::string(where) + ", policy '" + m.value.GetString() + "'";
        } else if (name != "PolicyDocument") {
          return Invalid(what, "unknown element '" + std::string(name) +
                                   "' (expected PolicyName and PolicyDocument)");
        }
      }
      document = &entry["PolicyDocument"];
    }
    CRUDDUR_ASSIGN_OR_RETURN(Policy policy, ParsePolicy(*document, what));
    out->push_back(std::move(policy));
  }
  return Status::Ok();
}

Result<Principal> ParsePrincipal(const json::Value& v, std::string_view where,
                                 std::string_view account_id) {
  if (!v.IsObject()) return Invalid(where, "a principal must be an object");
  Principal p;
  std::string user, role, session_name;
  bool has_policies = false;
  for (const auto& m : v.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "AccessKeyId") {
      CRUDDUR_ASSIGN_OR_RETURN(p.access_key_id, RequiredString(m.value, name, where, 128));
      for (char c : p.access_key_id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
          return Invalid(where, "AccessKeyId may hold only letters, digits, '_' and '-'");
        }
      }
    } else if (name == "SecretAccessKey") {
      CRUDDUR_ASSIGN_OR_RETURN(p.secret_access_key, RequiredString(m.value, name, where, 256));
    } else if (name == "SessionToken") {
      CRUDDUR_ASSIGN_OR_RETURN(p.session_token, RequiredString(m.value, name, where, 4096));
    } else if (name == "User") {
      CRUDDUR_ASSIGN_OR_RETURN(user, RequiredString(m.value, name, where, 64));
    } else if (name == "Role") {
      CRUDDUR_ASSIGN_OR_RETURN(role, RequiredString(m.value, name, where, 64));
    } else if (name == "SessionName") {
      CRUDDUR_ASSIGN_OR_RETURN(session_name, RequiredString(m.value, name, where, 64));
    } else if (name == "Policies") {
      has_policies = true;
      CRUDDUR_RETURN_IF_ERROR(ParsePolicies(m.value, where, &p.policies));
    } else {
      return Invalid(where, "unknown element '" + std::string(name) +
                                "' (expected AccessKeyId, SecretAccessKey, SessionToken, User or "
                                "Role, SessionName, Policies)");
    }
  }
  if (p.access_key_id.empty()) return Invalid(where, "AccessKeyId is required");
  if (p.secret_access_key.empty()) return Invalid(where, "SecretAccessKey is required");
  if (user.empty() == role.empty()) return Invalid(where, "give exactly one of User and Role");
  if (!session_name.empty() && role.empty()) {
    return Invalid(where, "SessionName goes with Role");
  }
  for (const std::string* n : {&user, &role, &session_name}) {
    if (!n->empty() && !IsIamName(*n)) {
      return Invalid(where, "'" + *n + "' is not an IAM name (1-64 of letters, digits, _+=,.@-)");
    }
  }
  if (!has_policies) {
    return Invalid(where, "Policies is required (an empty list denies everything)");
  }
  if (!user.empty()) {
    p.arn = "arn:aws:iam::" + std::string(account_id) + ":user/" + user;
  } else {
    p.arn = "arn:aws:sts::" + std::string(account_id) + ":assumed-role/" + role + "/" +
            (session_name.empty() ? role : session_name);
  }
  return p;
}

}  // namespace

Result<AuthConfig> AuthConfig::Parse(std::string_view text) {
  json::Document doc;
  Status parsed = json::Parse(text, &doc);
  if (!parsed.ok()) return ValidationError("auth file is not JSON: " + parsed.message());
  if (!doc.IsObject()) return ValidationError("auth file: the top level must be an object");
  AuthConfig config;
  const json::Value* principals = nullptr;
  for (const auto& m : doc.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "AccountId") {
      std::string_view id = m.value.IsString() ? m.value.GetString() : "";
      bool digits = id.size() == 12;
      for (char c : id) digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (!digits) return ValidationError("auth file: AccountId must be 12 digits");
      config.account_id_ = id;
    } else if (name == "Principals") {
      principals = &m.value;
    } else {
      return ValidationError("auth file: unknown element '" + std::string(name) +
                             "' (expected AccountId and Principals)");
    }
  }
  if (principals == nullptr || !principals->IsArray()) {
    return ValidationError("auth file: Principals must be a list");
  }
  if (principals->Size() > kMaxPrincipals) return ValidationError("auth file: too many Principals");
  for (rapidjson::SizeType i = 0; i < principals->Size(); ++i) {
    std::string where = "auth file, principal " + std::to_string(i + 1);
    const json::Value& v = (*principals)[i];
    if (v.IsObject() && v.HasMember("AccessKeyId") && v["AccessKeyId"].IsString()) {
      where += " (" + std::string(v["AccessKeyId"].GetString()) + ")";
    }
    CRUDDUR_ASSIGN_OR_RETURN(Principal p, ParsePrincipal(v, where, config.account_id_));
    if (!config.by_key_.emplace(p.access_key_id, config.principals_.size()).second) {
      return ValidationError(where + ": AccessKeyId is listed twice");
    }
    config.principals_.push_back(std::move(p));
  }
  return config;
}

const Principal* AuthConfig::Find(std::string_view access_key_id) const {
  auto it = by_key_.find(std::string(access_key_id));
  return it == by_key_.end() ? nullptr : &principals_[it->second];
}

Result<std::shared_ptr<const AuthConfig>> LoadAuthFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open auth file " + path);
  std::string text;
  text.resize(kMaxFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return IoError("cannot read auth file " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return ValidationError(path + ": auth file larger than 4 MiB");
  }
  Result<AuthConfig> config = AuthConfig::Parse(text);
  if (!config.ok()) return ValidationError(path + ": " + config.status().message());
  return std::make_shared<const AuthConfig>(std::move(config).value());
}

}  // namespace cruddur::dynamo::auth
