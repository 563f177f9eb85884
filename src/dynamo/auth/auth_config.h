// The engine's credentials and policies (`cruddur dynamodb --auth <file>`): which access keys
// may sign requests, with which secrets, as which IAM identity, under which identity policies.
//
// File format (JSON; every element is checked, unknown ones are errors):
//   {
//     "AccountId": "546310198960",            // optional, 12 digits; default "000000000000".
//                                             // The engine's ARNs (TableArn, stream ARNs, the
//                                             // resources policies are matched against) use it.
//     "Principals": [
//       {
//         "AccessKeyId": "AKIAEXAMPLESTREAM01",    // 1-128 of [A-Za-z0-9_-], unique
//         "SecretAccessKey": "...",                 // 1-256 characters
//         "SessionToken": "...",                    // optional: requests must then carry it as
//                                                   // X-Amz-Security-Token; without it, a request
//                                                   // carrying any token is refused (as AWS does)
//         "User": "cruddur-stream",                 // arn:aws:iam::<account>:user/<name>, or
//         "Role": "cruddur-messaging-stream-role",  // arn:aws:sts::<account>:assumed-role/<role>/
//         "SessionName": "cruddur-messaging-stream",//   <session> (SessionName, default the role)
//         "Policies": [ <IAM policy document>,
//                       {"PolicyName": "...", "PolicyDocument": <IAM policy document>} ]
//       }
//     ]
//   }
// Exactly one of User and Role. Policy documents are parsed by ParsePolicy (policy.h), so an
// inline policy copied from the IAM console loads as written.
//
// Thread-safety: an AuthConfig is immutable once loaded; share it (shared_ptr<const>) freely.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "dynamo/auth/policy.h"

namespace cruddur::dynamo::auth {

struct Principal {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: the principal's requests must carry no token
  std::string arn;            // as AWS names it in AccessDeniedException messages
  std::vector<Policy> policies;
};

class AuthConfig {
 public:
  // Parses the file's JSON text. Errors are kValidation, naming the principal and element.
  static Result<AuthConfig> Parse(std::string_view text);

  const std::string& account_id() const { return account_id_; }
  // The principal whose access key id is `access_key_id`, or nullptr.
  const Principal* Find(std::string_view access_key_id) const;
  size_t size() const { return principals_.size(); }

 private:
  std::string account_id_ = "000000000000";
  std::vector<Principal> principals_;
  std::unordered_map<std::string, size_t> by_key_;  // access key id -> index in principals_
};

// Reads and parses an auth file (at most 4 MiB). Errors: kIo when it cannot be read, else
// Parse's, prefixed with the path.
Result<std::shared_ptr<const AuthConfig>> LoadAuthFile(const std::string& path);

}  // namespace cruddur::dynamo::auth
