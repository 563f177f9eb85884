// Cognito user sync: read a user pool's users (Amazon Cognito's ListUsers API, or a file holding
// the output of `aws cognito-idp list-users`) and copy each user's `sub` into the users
// directory's cognito_user_id, matched by handle = preferred_username. This is the seed's
// bin/cognito/list-users and bin/db/update_cognito_user_ids.
//
// ListUsers is called the way the AWS SDKs call it: `POST /` to
// https://cognito-idp.<region>.amazonaws.com with `Content-Type: application/x-amz-json-1.1`,
// `X-Amz-Target: AWSCognitoIdentityProviderService.ListUsers`, a JSON body
// {"UserPoolId", "Limit", "PaginationToken"?}, signed with SigV4 for the service
// "cognito-idp". Every page is read, following PaginationToken, up to max_pages.
//
// Failure modes, as Status codes:
//   an error Cognito answers   its `__type` mapped to the nearest code (ResourceNotFoundException
//                              -> kResourceNotFound, InvalidParameterException -> kValidation,
//                              NotAuthorizedException and signature errors ->
//                              kUnrecognizedClient, TooManyRequestsException -> kThrottling,
//                              anything else -> kIo); the message always quotes the AWS type
//                              and message, e.g. "Cognito ListUsers: ResourceNotFoundException:
//                              User pool us-east-1_x does not exist."
//   transport failures, an answer that is not a ListUsers answer, a body over
//   kMaxCognitoResponseBytes, more than max_pages pages               kIo
//   bad options (endpoint URL, empty pool id, missing credentials)   kValidation
//
// Thread-safety: the free functions are reentrant; SyncCognitoUserIds relies on the directory's
// own thread-safety and is not atomic across users (each user is one SetCognitoUserId).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.h"
#include "common/status.h"
#include "dynamo/client/aws_config.h"
#include "identity/users_directory.h"

namespace cruddur::identity {

// The most users ListUsers returns per page (its Limit's maximum, Cognito API Reference).
inline constexpr int kCognitoListUsersPageLimit = 60;
// Default bound on pages read: 60,000 users.
inline constexpr int kMaxCognitoListUsersPages = 1000;
// Largest ListUsers answer accepted: a page of 60 users is a few tens of KB.
inline constexpr std::size_t kMaxCognitoResponseBytes = 4 << 20;
// Largest users file accepted: the output of `aws cognito-idp list-users` holds every page.
inline constexpr std::size_t kMaxCognitoUsersFileBytes = 64 << 20;

// One user of the pool: the attributes Cruddur uses. An attribute the user lacks is empty.
struct CognitoUser {
  std::string username;  // Cognito's Username (with email sign-in, often the sub itself)
  std::string sub;
  std::string preferred_username;  // Cruddur's handle
  std::string email;
  std::string name;
  std::string user_status;  // "CONFIRMED", "FORCE_CHANGE_PASSWORD", ...
  bool enabled = true;

  friend bool operator==(const CognitoUser&, const CognitoUser&) = default;
};

// One parsed ListUsers answer.
struct CognitoUsersPage {
  std::vector<CognitoUser> users;
  std::string pagination_token;  // empty on the last page
};

// Parses a ListUsers answer body, or the output of `aws cognito-idp list-users` (the same
// shape; the CLI's NextToken is read as the pagination token). kIo when `body` is not an
// object with a Users array of objects each with a string Username; attribute values, UserStatus
// and Enabled of the wrong type are kIo too.
Result<CognitoUsersPage> ParseCognitoUsersPage(std::string_view body);

// Reads a file holding the output of `aws cognito-idp list-users` (every page, as the CLI
// writes it). kIo when it cannot be read, is over kMaxCognitoUsersFileBytes or does not parse.
Result<std::vector<CognitoUser>> ReadCognitoUsersFile(const std::string& path);

// `users` as the output of `aws cognito-idp list-users` ({"Users":[{"Username", "Attributes",
// "UserStatus", "Enabled"}]}), so ReadCognitoUsersFile reads it back.
std::string CognitoUsersJson(const std::vector<CognitoUser>& users);

struct CognitoClientOptions {
  // scheme://host[:port] (http or https), e.g. "https://cognito-idp.us-east-1.amazonaws.com".
  std::string endpoint;
  std::string region;  // the SigV4 signing region
  aws::Credentials credentials;
  long connect_timeout_ms = 10000;
  long request_timeout_ms = 30000;  // per page, connect included
  int max_pages = kMaxCognitoListUsersPages;
  // The signing clock; the system clock when unset.
  std::function<std::int64_t()> now_unix_seconds;
};

// https://cognito-idp.<region>.amazonaws.com (.amazonaws.com.cn for cn-* regions).
std::string RegionalCognitoIdpEndpoint(std::string_view region);

// Region and credentials resolved the AWS way (dynamo::LoadDynamoClientConfig: environment,
// profile, shared files); the endpoint from AWS_ENDPOINT_URL_COGNITO_IDP, else the region's.
// Fails with the Status LoadDynamoClientConfig fails with (no region, half a key pair, ...).
Result<CognitoClientOptions> CognitoClientOptionsFromEnvironment(const dynamo::Environment& env);

// Every user of the pool, in the order Cognito lists them (ListUsers, all pages).
Result<std::vector<CognitoUser>> ListCognitoUsers(const CognitoClientOptions& options,
                                                  std::string_view user_pool_id);

// What SyncCognitoUserIds did, each list in the order of the pool's users.
struct CognitoSyncReport {
  struct Change {
    std::string handle;
    std::string sub;
    std::string previous;  // the cognito_user_id replaced; empty if the user had none
  };
  struct Failure {
    std::string handle;    // the pool user's preferred_username
    std::string username;  // the pool user's Username
    Status status;
  };
  std::vector<Change> changed;         // cognito_user_id set (or replaced) to the pool's sub
  std::vector<Change> created;         // users inserted (create_missing only)
  std::vector<std::string> unchanged;  // handles already holding their sub
  std::vector<CognitoUser> unmatched;  // preferred_username is no directory handle
  std::vector<CognitoUser> skipped;    // no preferred_username or no sub: cannot be matched
  std::vector<Failure> failed;         // the directory refused, or the handle is ambiguous

  bool ok() const { return failed.empty(); }
};

struct CognitoSyncOptions {
  // Insert pool users whose handle the directory lacks (display name from `name`, else the
  // handle; email from `email`) instead of reporting them unmatched.
  bool create_missing = false;
};

// For each pool user with a preferred_username and a sub, sets the cognito_user_id of the
// directory user whose handle equals the preferred_username (exactly, as the seed's SQL does) to
// the sub. The pool is the source of truth: a different id already stored is replaced, as the
// seed's UPDATE replaces it. Re-running with the same users changes nothing.
// Per-user failures do not stop the sync; they are listed in `failed`:
//   - the sub is already another directory user's cognito_user_id (kResourceInUse, the unique
//     constraint), or another directory error for that user;
//   - two pool users share a preferred_username (kValidation; neither is applied).
// Fails as a whole only when the directory cannot be listed (e.g. kResourceNotFound before
// `cruddur db schema-load`).
Result<CognitoSyncReport> SyncCognitoUserIds(UsersDirectory& users,
                                             const std::vector<CognitoUser>& pool_users,
                                             const CognitoSyncOptions& options = {});

}  // namespace cruddur::identity
