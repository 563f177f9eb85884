#include "identity/identity_config.h"

#include <charconv>
#include <cstdlib>

namespace cruddur::identity {
namespace {

std::string Get(const EnvLookup& env, const char* name) {
  std::optional<std::string> value = env(name);
  return value ? *value : std::string();
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<IdentityConfig> IdentityConfig::FromEnvironment(const EnvLookup& env) {
  IdentityConfig config;
  config.connection_url = Get(env, "CONNECTION_URL");
  // The AWS CLI and SDKs read AWS_REGION first; the seed sets AWS_DEFAULT_REGION. Either works.
  config.region = Get(env, "AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = Get(env, "AWS_REGION");
  config.user_pool_id = Get(env, "AWS_COGNITO_USER_POOL_ID");
  config.client_id = Get(env, "AWS_COGNITO_USER_POOL_CLIENT_ID");
  config.jwks_url = Get(env, "CRUDDUR_JWKS_URL");
  config.jwks_file = Get(env, "CRUDDUR_JWKS_FILE");
  std::string refetch = Get(env, "CRUDDUR_JWKS_MIN_REFETCH_SECONDS");
  if (!refetch.empty()) {
    std::int64_t seconds = -1;
    auto [end, ec] = std::from_chars(refetch.data(), refetch.data() + refetch.size(), seconds);
    if (ec != std::errc() || end != refetch.data() + refetch.size() || seconds < 0) {
      return ValidationError(
          "CRUDDUR_JWKS_MIN_REFETCH_SECONDS must be a whole number of seconds, "
          "got '" +
          refetch + "'");
    }
    config.jwks_min_refetch_seconds = seconds;
  }
  return config;
}

}  // namespace cruddur::identity
