// The lookup order here is the one the AWS SDKs and Tools Reference Guide documents
// ("Shared config and credentials files", "Service-specific endpoints", "AWS Region",
// "Retry behavior") and that botocore implements; the file syntax is botocore's
// (configparser with its nested-section extension for `services` and `s3 =` blocks).
#include "dynamo/client/aws_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

namespace cruddur::dynamo {
namespace {

// A shared file is a few lines; a huge one is a mistake, not a configuration.
constexpr std::streamsize kMaxSharedFileBytes = 1 << 20;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> NonEmpty(const Environment& env, std::string_view name) {
  std::optional<std::string> v = env(name);
  if (v.has_value() && v->empty()) return std::nullopt;
  return v;
}

// Reads a shared file; a missing file is an empty one (the SDKs treat it so).
Result<IniFile> LoadIniFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return IniFile{};
  std::string text(static_cast<size_t>(kMaxSharedFileBytes) + 1, '\0');
  in.read(text.data(), kMaxSharedFileBytes + 1);
  if (in.bad()) return ValidationError("cannot read " + path);
  if (in.gcount() > kMaxSharedFileBytes) {
    return ValidationError(path + " is larger than 1 MiB; it is not an AWS shared file");
  }
  text.resize(static_cast<size_t>(in.gcount()));
  return ParseIni(text, path);
}

std::string ExpandHome(const std::string& path, const Environment& env) {
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') {
    if (auto home = NonEmpty(env, "HOME")) return *home + path.substr(1);
  }
  return path;
}

// The path of a shared file: its variable, else ~/.aws/<name>; empty when there is no HOME.
std::string SharedFilePath(const Environment& env, std::string_view variable,
                           std::string_view default_name) {
  if (auto path = NonEmpty(env, variable)) return ExpandHome(*path, env);
  if (auto home = NonEmpty(env, "HOME")) return *home + "/.aws/" + std::string(default_name);
  return "";
}

using Section = std::map<std::string, std::string>;

const Section* FindSection(const IniFile& file, std::string_view name) {
  auto it = file.find(name);
  return it == file.end() ? nullptr : &it->second;
}

std::optional<std::string> Get(const Section* section, std::string_view key) {
  if (section == nullptr) return std::nullopt;
  auto it = section->find(std::string(key));
  if (it == section->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

bool IsTrue(const std::optional<std::string>& v) { return v.has_value() && Lower(*v) == "true"; }

Result<int> ParseMaxAttempts(const std::string& value, const std::string& source) {
  int n = 0;
  bool ok = !value.empty() && value.size() <= 4;
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
  }
  if (ok) n = std::atoi(value.c_str());
  if (!ok || n < 1) {
    return ValidationError(source + " must be a positive integer, got '" + value + "'");
  }
  return n;
}

// Static keys from one profile section; nullopt when the section has none.
Result<std::optional<aws::Credentials>> KeysFrom(const Section* section, const std::string& where) {
  auto id = Get(section, "aws_access_key_id");
  auto secret = Get(section, "aws_secret_access_key");
  if (!id.has_value() && !secret.has_value()) return std::optional<aws::Credentials>();
  if (!id.has_value() || !secret.has_value()) {
    return ValidationError(where + " has only one of aws_access_key_id and " +
                           "aws_secret_access_key; both are needed");
  }
  aws::Credentials creds{*id, *secret, ""};
  if (auto token = Get(section, "aws_session_token")) {
    creds.session_token = *token;
  } else if (auto legacy = Get(section, "aws_security_token")) {
    creds.session_token = *legacy;
  }
  return std::optional<aws::Credentials>(std::move(creds));
}

}  // namespace

Environment ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Environment MapEnvironment(std::map<std::string, std::string, std::less<>> variables) {
  return [vars = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string RegionalDynamoEndpoint(std::string_view region) {
  // China regions live under their own DNS suffix (AWS General Reference, "Amazon DynamoDB
  // endpoints and quotas").
  const bool china = region.substr(0, 3) == "cn-";
  return "https://dynamodb." + std::string(region) +
         (china ? ".amazonaws.com.cn" : ".amazonaws.com");
}

Result<IniFile> ParseIni(std::string_view text, std::string_view name) {
  IniFile out;
  std::map<std::string, std::string>* section = nullptr;
  std::string last_key;          // the key an indented line belongs to
  bool last_key_opened = false;  // that key had an empty value: indented lines are a sub-section
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto error = [&](std::string what) {
      return ValidationError(std::string(name) + ":" + std::to_string(line_no) + ": " + what);
    };
    const bool indented = std::isspace(static_cast<unsigned char>(raw[0])) != 0;
    if (!indented && line.front() == '[') {
      if (line.back() != ']') return error("a section header must end with ']'");
      section = &out[std::string(Trim(line.substr(1, line.size() - 2)))];
      last_key.clear();
      continue;
    }
    if (section == nullptr) return error("a setting before any [section] header");
    size_t delim = line.find_first_of("=:");
    if (indented && !last_key.empty()) {
      if (last_key_opened) {
        if (delim == std::string_view::npos) return error("a sub-setting needs 'key = value'");
        std::string key = last_key + "." + Lower(Trim(line.substr(0, delim)));
        (*section)[key] = std::string(Trim(line.substr(delim + 1)));
      } else {
        (*section)[last_key] += "\n" + std::string(line);
      }
      continue;
    }
    if (delim == std::string_view::npos) return error("expected 'key = value'");
    last_key = Lower(Trim(line.substr(0, delim)));
    std::string value(Trim(line.substr(delim + 1)));
    last_key_opened = value.empty();
    (*section)[last_key] = std::move(value);
  }
  return out;
}

Result<DynamoClientConfig> LoadDynamoClientConfig(const Environment& env) {
  DynamoClientConfig config;
  const auto named_profile = NonEmpty(env, "AWS_PROFILE").has_value()
                                 ? NonEmpty(env, "AWS_PROFILE")
                                 : NonEmpty(env, "AWS_DEFAULT_PROFILE");
  config.profile = named_profile.value_or("default");

  const std::string config_path = SharedFilePath(env, "AWS_CONFIG_FILE", "config");
  const std::string credentials_path =
      SharedFilePath(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  IniFile config_file, credentials_file;
  if (!config_path.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(config_file, LoadIniFile(config_path));
  }
  if (!credentials_path.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(credentials_file, LoadIniFile(credentials_path));
  }
  const Section* profile_config = FindSection(
      config_file, config.profile == "default" ? "default" : "profile " + config.profile);
  if (profile_config == nullptr && config.profile == "default") {
    profile_config = FindSection(config_file, "profile default");
  }
  const Section* profile_credentials = FindSection(credentials_file, config.profile);
  if (named_profile.has_value() && profile_config == nullptr && profile_credentials == nullptr) {
    return ValidationError("The config profile (" + config.profile + ") could not be found in " +
                           config_path + " or " + credentials_path);
  }
  const std::string in_config = "profile " + config.profile + " in " + config_path;
  const std::string in_credentials = "profile " + config.profile + " in " + credentials_path;

  // Credentials.
  auto env_id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto env_secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (env_id.has_value() != env_secret.has_value()) {
    return ValidationError(
        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; both are needed");
  }
  if (env_id.has_value()) {
    config.credentials = {*env_id, *env_secret, NonEmpty(env, "AWS_SESSION_TOKEN").value_or("")};
    config.credentials_source = "environment";
  } else {
    CRUDDUR_ASSIGN_OR_RETURN(auto from_credentials, KeysFrom(profile_credentials, in_credentials));
    CRUDDUR_ASSIGN_OR_RETURN(auto from_config, KeysFrom(profile_config, in_config));
    if (from_credentials.has_value()) {
      config.credentials = std::move(*from_credentials);
      config.credentials_source = in_credentials;
    } else if (from_config.has_value()) {
      config.credentials = std::move(*from_config);
      config.credentials_source = in_config;
    } else {
      for (const char* provider : {"credential_process", "sso_session", "sso_start_url", "role_arn",
                                   "web_identity_token_file", "credential_source"}) {
        if (Get(profile_config, provider).has_value() ||
            Get(profile_credentials, provider).has_value()) {
          return ValidationError("profile " + config.profile + " gets its credentials through " +
                                 provider +
                                 ", which this client does not support; configure static "
                                 "keys (aws_access_key_id/aws_secret_access_key) or set "
                                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        }
      }
      return ValidationError(
          "Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
          "aws_access_key_id and aws_secret_access_key in profile " +
          config.profile + " of " + credentials_path);
    }
  }

  // Region.
  if (auto region = NonEmpty(env, "AWS_REGION")) {
    config.region = *region;
    config.region_source = "AWS_REGION";
  } else if (auto default_region = NonEmpty(env, "AWS_DEFAULT_REGION")) {
    config.region = *default_region;
    config.region_source = "AWS_DEFAULT_REGION";
  } else if (auto profile_region = Get(profile_config, "region")) {
    config.region = *profile_region;
    config.region_source = in_config;
  } else {
    return ValidationError(
        "You must specify a region: set AWS_REGION or AWS_DEFAULT_REGION, or region in profile " +
        config.profile + " of " + config_path);
  }

  // Endpoint.
  const bool ignore_configured = IsTrue(NonEmpty(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
                                 IsTrue(Get(profile_config, "ignore_configured_endpoint_urls"));
  std::optional<std::string> services_endpoint;
  std::string services_source;
  if (auto services = Get(profile_config, "services")) {
    const Section* section = FindSection(config_file, "services " + *services);
    services_endpoint = Get(section, "dynamodb.endpoint_url");
    services_source = "[services " + *services + "] dynamodb endpoint_url in " + config_path;
  }
  if (ignore_configured) {
    config.endpoint.clear();
  } else if (auto service_env = NonEmpty(env, "AWS_ENDPOINT_URL_DYNAMODB")) {
    config.endpoint = *service_env;
    config.endpoint_source = "AWS_ENDPOINT_URL_DYNAMODB";
  } else if (auto global_env = NonEmpty(env, "AWS_ENDPOINT_URL")) {
    config.endpoint = *global_env;
    config.endpoint_source = "AWS_ENDPOINT_URL";
  } else if (services_endpoint.has_value()) {
    config.endpoint = *services_endpoint;
    config.endpoint_source = services_source;
  } else if (auto profile_endpoint = Get(profile_config, "endpoint_url")) {
    config.endpoint = *profile_endpoint;
    config.endpoint_source = "endpoint_url in " + in_config;
  }
  if (config.endpoint.empty()) {
    config.endpoint = RegionalDynamoEndpoint(config.region);
    config.endpoint_source = "region " + config.region;
  }

  // Retries.
  if (auto attempts = NonEmpty(env, "AWS_MAX_ATTEMPTS")) {
    CRUDDUR_ASSIGN_OR_RETURN(config.max_attempts, ParseMaxAttempts(*attempts, "AWS_MAX_ATTEMPTS"));
  } else if (auto profile_attempts = Get(profile_config, "max_attempts")) {
    CRUDDUR_ASSIGN_OR_RETURN(config.max_attempts,
                             ParseMaxAttempts(*profile_attempts, "max_attempts in " + in_config));
  }
  return config;
}

}  // namespace cruddur::dynamo
