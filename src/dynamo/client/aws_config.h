// Where a DynamoDB client finds its endpoint, region and credentials: the AWS way, so a
// deployment configured for the AWS CLI or boto3 configures Cruddur's HTTP client unchanged.
// The environment comes in through a seam (Environment) so tests pass a map; the shared files
// are read from disk (their paths come from the environment too).
//
// Resolution, each as the AWS SDKs and Tools Reference Guide documents it:
//  - profile: AWS_PROFILE, else AWS_DEFAULT_PROFILE (the CLI's older name), else "default".
//    Files: AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials, sections `[name]`) and
//    AWS_CONFIG_FILE (default ~/.aws/config, sections `[default]` / `[profile name]`).
//    A profile named explicitly that is in neither file is an error.
//  - credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the
//    profile's aws_access_key_id / aws_secret_access_key / aws_session_token from the
//    credentials file, else from the config file. Half a pair is an error. Credential
//    providers beyond static keys (credential_process, SSO, assume-role, web identity,
//    instance metadata) are not supported and are reported as such.
//  - region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region`. None is an error.
//  - endpoint ("Service-specific endpoints"): AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL,
//    else the config file's `[services <name>]` section named by the profile's `services`
//    (its `dynamodb =` sub-section's endpoint_url), else the profile's endpoint_url; all of
//    these skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
//    ignore_configured_endpoint_urls is "true". Otherwise the region's endpoint,
//    https://dynamodb.<region>.amazonaws.com (.amazonaws.com.cn for cn-* regions).
//  - max attempts: AWS_MAX_ATTEMPTS, else the profile's max_attempts; 0 when neither is set.
//
// Thread-safety: LoadDynamoClientConfig is reentrant; an Environment must be safe to call from
// the thread that loads the configuration.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "common/status.h"

namespace cruddur::dynamo {

// Returns the value of an environment variable, or nullopt when it is not set.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
Environment ProcessEnvironment();
// A fixed set of variables, for tests and for callers that assemble their own.
Environment MapEnvironment(std::map<std::string, std::string, std::less<>> variables);

struct DynamoClientConfig {
  std::string
      endpoint;  // e.g. "https://dynamodb.eu-west-1.amazonaws.com" or "http://127.0.0.1:8000"
  std::string region;
  aws::Credentials credentials;
  int max_attempts = 0;  // 0: not configured, the client's default applies
  std::string profile;   // the profile that was consulted
  // Where each setting came from ("AWS_ENDPOINT_URL_DYNAMODB", "profile dev in
  // /home/u/.aws/config", "region default"), for startup logs. Never contains a secret.
  std::string endpoint_source;
  std::string region_source;
  std::string credentials_source;
};

// Resolves the configuration as described above. Fails with kValidation naming the missing or
// contradictory setting, or a shared file that cannot be read or parsed (with its line).
Result<DynamoClientConfig> LoadDynamoClientConfig(const Environment& env);

// The DynamoDB endpoint AWS serves `region` from.
std::string RegionalDynamoEndpoint(std::string_view region);

// One parsed shared config/credentials file: section name (as written between the brackets,
// trimmed) -> key -> value. A key with an empty value followed by indented `k = v` lines holds
// a sub-section; its entries are stored as "<key>.<k>" (e.g. "dynamodb.endpoint_url").
using IniFile = std::map<std::string, std::map<std::string, std::string>, std::less<>>;
// Parses the text of a shared file. `name` is used in error messages.
Result<IniFile> ParseIni(std::string_view text, std::string_view name);

}  // namespace cruddur::dynamo
