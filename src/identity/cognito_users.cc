// ListUsers over HTTP and the sync into the users directory.
//
// Why these choices:
// - The wire format is the AWS JSON 1.1 protocol that botocore uses for cognito-idp (its
//   service model: "protocol": "json", "jsonVersion": "1.1", "targetPrefix":
//   "AWSCognitoIdentityProviderService", "signingName": "cognito-idp"). Errors come back as
//   {"__type": "<Name>", "message": "..."}; older services prefix the name with
//   "<namespace>#", so only the part after '#' is kept, as botocore does.
// - Limit is 60, ListUsers' documented maximum, so a pool is read in as few calls as possible
//   (ListUsers is in Cognito's low "UserRead" quota category).
// - The endpoint override is AWS_ENDPOINT_URL_COGNITO_IDP only ("Service-specific endpoints":
//   the service id "Cognito Identity Provider" becomes COGNITO_IDP). The global
//   AWS_ENDPOINT_URL is not honoured here: the seed's deployment sets it to DynamoDB Local
//   (`endpoint_url = os.getenv("AWS_ENDPOINT_URL")`), which would send ListUsers there.
// - libcurl as in jwks_source.cc: http/https only, no redirects (a signed POST must not be
//   replayed elsewhere), timeouts without signals, and a write callback that stops at the body
//   bound. The Host header is set to exactly the value signed, and `Expect:` is cleared.
// - The sync follows the seed's UPDATE ... WHERE users.handle = preferred_username, so the pool
//   wins over a stored id; duplicate preferred_usernames in the pool (Cognito does not make the
//   attribute unique unless it is a sign-in alias) are refused instead of applied in whatever
//   order ListUsers returned them, which would make the result depend on that order.
#include "identity/cognito_users.h"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "common/json.h"

namespace cruddur::identity {
namespace {

constexpr std::string_view kService = "cognito-idp";
constexpr std::string_view kListUsersTarget = "AWSCognitoIdentityProviderService.ListUsers";
constexpr std::string_view kContentType = "application/x-amz-json-1.1";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Endpoint {
  std::string url;   // scheme://authority/
  std::string host;  // the Host header: authority without the scheme's default port
};

Result<Endpoint> ParseEndpoint(std::string_view url) {
  const std::size_t sep = url.find("://");
  const std::string scheme = sep == std::string_view::npos ? "" : Lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return ValidationError("Cognito endpoint '" + std::string(url) +
                           "' must be http://host[:port] or https://host[:port]");
  }
  std::string_view authority = url.substr(sep + 3);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.empty() || authority.find_first_of("@?#/ ") != std::string_view::npos) {
    return ValidationError("Cognito endpoint '" + std::string(url) +
                           "' must be scheme://host[:port], without user, path or query");
  }
  std::string host = Lower(authority);
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  const std::size_t close_bracket = host.rfind(']');  // IPv6 literal: the port follows the ']'
  const std::size_t colon = host.rfind(':');
  if (colon != std::string::npos && (close_bracket == std::string::npos || colon > close_bracket) &&
      host.substr(colon) == default_port) {
    host.resize(colon);
  }
  return Endpoint{scheme + "://" + std::string(authority) + "/", std::move(host)};
}

// ---- Parsing ----

Status Malformed(std::string what) {
  return IoError("Cognito ListUsers: the answer is not a ListUsers answer: " + std::move(what));
}

Result<CognitoUser> ParseUser(const json::Value& value, std::size_t index) {
  const std::string where = "Users[" + std::to_string(index) + "]";
  if (!value.IsObject()) return Malformed(where + " is not an object");
  auto username = value.FindMember("Username");
  if (username == value.MemberEnd() || !username->value.IsString()) {
    return Malformed(where + " has no string Username");
  }
  CognitoUser user;
  user.username = username->value.GetString();
  // ListUsers names the attributes "Attributes"; AdminGetUser-shaped documents "UserAttributes".
  auto attributes = value.FindMember("Attributes");
  if (attributes == value.MemberEnd()) attributes = value.FindMember("UserAttributes");
  if (attributes != value.MemberEnd()) {
    if (!attributes->value.IsArray()) return Malformed(where + ".Attributes is not an array");
    for (const json::Value& attribute : attributes->value.GetArray()) {
      if (!attribute.IsObject()) return Malformed(where + ".Attributes has a non-object");
      auto name = attribute.FindMember("Name");
      auto text = attribute.FindMember("Value");
      if (name == attribute.MemberEnd() || !name->value.IsString()) {
        return Malformed(where + ".Attributes has an attribute without a string Name");
      }
      // An attribute may come without a Value (AttributesToGet of an unset attribute).
      if (text == attribute.MemberEnd()) continue;
      if (!text->value.IsString()) {
        return Malformed(where + " attribute " + name->value.GetString() + " is not a string");
      }
      std::string_view attribute_name = name->value.GetString();
      std::string* field = attribute_name == "sub"                  ? &user.sub
                           : attribute_name == "preferred_username" ? &user.preferred_username
                           : attribute_name == "email"              ? &user.email
                           : attribute_name == "name"               ? &user.name
                                                                    : nullptr;
      if (field != nullptr) field->assign(text->value.GetString(), text->value.GetStringLength());
    }
  }
  if (auto status = value.FindMember("UserStatus"); status != value.MemberEnd()) {
    if (!status->value.IsString()) return Malformed(where + ".UserStatus is not a string");
    user.user_status = status->value.GetString();
  }
  if (auto enabled = value.FindMember("Enabled"); enabled != value.MemberEnd()) {
    if (!enabled->value.IsBool()) return Malformed(where + ".Enabled is not a boolean");
    user.enabled = enabled->value.GetBool();
  }
  return user;
}

// ---- HTTP ----

struct Body {
  std::string text;
  bool too_large = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t bytes = size * count;
  if (body->text.size() + bytes > kMaxCognitoResponseBytes) {
    body->too_large = true;
    return 0;  // makes curl_easy_perform fail with CURLE_WRITE_ERROR
  }
  body->text.append(data, bytes);
  return bytes;
}

void GlobalInitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct HttpAnswer {
  long status = 0;
  std::string body;
};

struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

Result<HttpAnswer> Post(CURL* c, const Endpoint& endpoint, const CognitoClientOptions& options,
                        const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", endpoint.host},
      {"Content-Type", std::string(kContentType)},
      {"X-Amz-Target", std::string(kListUsersTarget)},
  };
  const std::int64_t now = options.now_unix_seconds
                               ? options.now_unix_seconds()
                               : std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  aws::SigV4 signer;
  CRUDDUR_ASSIGN_OR_RETURN(aws::SignedRequest signed_request,
                           signer.Sign({"POST", "/", headers, body}, options.credentials,
                                       options.region, kService, now));
  for (auto& header : signed_request.headers_to_add) headers.push_back(std::move(header));

  std::unique_ptr<curl_slist, CurlSlistFree> list;
  auto append = [&list](const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) return false;
    (void)list.release();  // curl_slist_append returned the same list, grown
    list.reset(grown);
    return true;
  };
  for (const auto& [name, value] : headers) {
    if (!append(name + ": " + value)) return IoError("Cognito ListUsers: out of memory");
  }
  // "Expect:" with no value stops curl from waiting for "100 Continue".
  if (!append("Expect:")) return IoError("Cognito ListUsers: out of memory");

  Body answer;
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, endpoint.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cruddur-cognito-client/0.1");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options.request_timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);  // `list` dies with this frame
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (answer.too_large) {
    return IoError("Cognito ListUsers at " + endpoint.url + ": answer larger than " +
                   std::to_string(kMaxCognitoResponseBytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    return IoError("Cognito ListUsers at " + endpoint.url + ": " +
                   (error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc)));
  }
  HttpAnswer out;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  out.body = std::move(answer.text);
  return out;
}

ErrorCode CodeForAwsError(std::string_view type) {
  if (type == "ResourceNotFoundException") return ErrorCode::kResourceNotFound;
  if (type == "InvalidParameterException" || type == "ValidationException") {
    return ErrorCode::kValidation;
  }
  if (type == "NotAuthorizedException" || type == "UnrecognizedClientException" ||
      type == "InvalidSignatureException" || type == "IncompleteSignature" ||
      type == "MissingAuthenticationTokenException" || type == "ExpiredTokenException") {
    return ErrorCode::kUnrecognizedClient;
  }
  if (type == "AccessDeniedException") return ErrorCode::kAccessDenied;
  if (type == "TooManyRequestsException" || type == "ThrottlingException") {
    return ErrorCode::kThrottling;
  }
  return ErrorCode::kIo;
}

// The Status for an answer other than 200: AWS's error type and message from the body, or the
// HTTP status when the body is not an AWS error.
Status ErrorFromAnswer(const HttpAnswer& answer) {
  json::Document doc;
  std::string type;
  std::string message;
  if (json::Parse(answer.body, &doc).ok() && doc.IsObject()) {
    if (auto t = doc.FindMember("__type"); t != doc.MemberEnd() && t->value.IsString()) {
      type = t->value.GetString();
      if (std::size_t hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
    }
    for (const char* key : {"message", "Message"}) {
      auto m = doc.FindMember(key);
      if (m != doc.MemberEnd() && m->value.IsString()) {
        message = m->value.GetString();
        break;
      }
    }
  }
  if (type.empty()) {
    return IoError("Cognito ListUsers: HTTP status " + std::to_string(answer.status) +
                   (message.empty() ? "" : ": " + message));
  }
  return Status(CodeForAwsError(type), "Cognito ListUsers: " + type + ": " + message);
}

std::string ListUsersRequest(std::string_view user_pool_id, std::string_view pagination_token) {
  json::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("UserPoolId");
  writer.String(user_pool_id.data(), static_cast<rapidjson::SizeType>(user_pool_id.size()));
  writer.Key("Limit");
  writer.Int(kCognitoListUsersPageLimit);
  if (!pagination_token.empty()) {
    writer.Key("PaginationToken");
    writer.String(pagination_token.data(),
                  static_cast<rapidjson::SizeType>(pagination_token.size()));
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void WriteString(json::Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

Result<CognitoUsersPage> ParseCognitoUsersPage(std::string_view body) {
  json::Document doc;
  if (Status parsed = json::Parse(body, &doc); !parsed.ok()) return Malformed(parsed.message());
  if (!doc.IsObject()) return Malformed("not a JSON object");
  auto users = doc.FindMember("Users");
  if (users == doc.MemberEnd() || !users->value.IsArray()) return Malformed("no Users array");
  CognitoUsersPage page;
  page.users.reserve(users->value.Size());
  std::size_t index = 0;
  for (const json::Value& value : users->value.GetArray()) {
    CRUDDUR_ASSIGN_OR_RETURN(CognitoUser user, ParseUser(value, index++));
    page.users.push_back(std::move(user));
  }
  for (const char* key : {"PaginationToken", "NextToken"}) {
    auto token = doc.FindMember(key);
    if (token == doc.MemberEnd() || token->value.IsNull()) continue;
    if (!token->value.IsString()) return Malformed(std::string(key) + " is not a string");
    page.pagination_token = token->value.GetString();
  }
  return page;
}

Result<std::vector<CognitoUser>> ReadCognitoUsersFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("read Cognito users from " + path + ": cannot open the file");
  std::string text(kMaxCognitoUsersFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return IoError("read Cognito users from " + path + ": read failed");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxCognitoUsersFileBytes) {
    return IoError("read Cognito users from " + path + ": larger than " +
                   std::to_string(kMaxCognitoUsersFileBytes) + " bytes");
  }
  Result<CognitoUsersPage> page = ParseCognitoUsersPage(text);
  if (!page.ok()) {
    return IoError("read Cognito users from " + path + ": " + page.status().message());
  }
  return std::move(page->users);
}

std::string CognitoUsersJson(const std::vector<CognitoUser>& users) {
  json::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("Users");
  writer.StartArray();
  for (const CognitoUser& user : users) {
    writer.StartObject();
    writer.Key("Username");
    WriteString(writer, user.username);
    writer.Key("Attributes");
    writer.StartArray();
    for (const auto& [name, value] :
         {std::pair<std::string_view, const std::string&>{"sub", user.sub},
          {"preferred_username", user.preferred_username},
          {"email", user.email},
          {"name", user.name}}) {
      if (value.empty()) continue;
      writer.StartObject();
      writer.Key("Name");
      WriteString(writer, name);
      writer.Key("Value");
      WriteString(writer, value);
      writer.EndObject();
    }
    writer.EndArray();
    if (!user.user_status.empty()) {
      writer.Key("UserStatus");
      WriteString(writer, user.user_status);
    }
    writer.Key("Enabled");
    writer.Bool(user.enabled);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string RegionalCognitoIdpEndpoint(std::string_view region) {
  const bool china = region.substr(0, 3) == "cn-";
  return "https://cognito-idp." + std::string(region) + ".amazonaws.com" + (china ? ".cn" : "");
}

Result<CognitoClientOptions> CognitoClientOptionsFromEnvironment(const dynamo::Environment& env) {
  CRUDDUR_ASSIGN_OR_RETURN(dynamo::DynamoClientConfig aws, dynamo::LoadDynamoClientConfig(env));
  CognitoClientOptions options;
  options.region = aws.region;
  options.credentials = std::move(aws.credentials);
  std::optional<std::string> ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  std::optional<std::string> endpoint = env("AWS_ENDPOINT_URL_COGNITO_IDP");
  if (endpoint && !endpoint->empty() && !(ignore && Lower(*ignore) == "true")) {
    options.endpoint = *endpoint;
  } else {
    options.endpoint = RegionalCognitoIdpEndpoint(options.region);
  }
  return options;
}

Result<std::vector<CognitoUser>> ListCognitoUsers(const CognitoClientOptions& options,
                                                  std::string_view user_pool_id) {
  if (user_pool_id.empty()) return ValidationError("Cognito ListUsers: no user pool id");
  if (options.region.empty()) return ValidationError("Cognito ListUsers: no region");
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return ValidationError("Cognito ListUsers: no AWS credentials");
  }
  if (options.max_pages < 1) return ValidationError("Cognito ListUsers: max_pages must be >= 1");
  CRUDDUR_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(options.endpoint));
  GlobalInitCurl();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return IoError("Cognito ListUsers: cannot start libcurl");

  std::vector<CognitoUser> users;
  std::string token;
  for (int page = 0; page < options.max_pages; ++page) {
    CRUDDUR_ASSIGN_OR_RETURN(HttpAnswer answer, Post(curl.get(), endpoint, options,
                                                     ListUsersRequest(user_pool_id, token)));
    if (answer.status != 200) return ErrorFromAnswer(answer);
    CRUDDUR_ASSIGN_OR_RETURN(CognitoUsersPage parsed, ParseCognitoUsersPage(answer.body));
    for (CognitoUser& user : parsed.users) users.push_back(std::move(user));
    if (parsed.pagination_token.empty()) return users;
    token = std::move(parsed.pagination_token);
  }
  return IoError("Cognito ListUsers: the pool " + std::string(user_pool_id) + " has more than " +
                 std::to_string(options.max_pages) + " pages of users");
}

Result<CognitoSyncReport> SyncCognitoUserIds(UsersDirectory& users,
                                             const std::vector<CognitoUser>& pool_users,
                                             const CognitoSyncOptions& options) {
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<User> directory, users.ListUsers());
  std::map<std::string, std::string, std::less<>> stored;  // handle -> cognito_user_id or ""
  for (User& user : directory) {
    stored.emplace(std::move(user.handle), user.cognito_user_id.value_or(""));
  }
  std::map<std::string_view, int> claims;  // preferred_username -> pool users holding it
  for (const CognitoUser& user : pool_users) {
    if (!user.preferred_username.empty() && !user.sub.empty()) ++claims[user.preferred_username];
  }

  CognitoSyncReport report;
  for (const CognitoUser& user : pool_users) {
    const std::string& handle = user.preferred_username;
    if (handle.empty() || user.sub.empty()) {
      report.skipped.push_back(user);
      continue;
    }
    if (claims[handle] > 1) {
      report.failed.push_back(
          {handle, user.username,
           ValidationError(std::to_string(claims[handle]) + " pool users have preferred_username " +
                           handle + "; none of them is applied")});
      continue;
    }
    auto found = stored.find(handle);
    if (found == stored.end()) {
      if (!options.create_missing) {
        report.unmatched.push_back(user);
        continue;
      }
      Result<User> created =
          users.CreateUser({user.name.empty() ? handle : user.name, handle, user.email, user.sub});
      if (created.ok()) {
        report.created.push_back({handle, user.sub, ""});
      } else {
        report.failed.push_back({handle, user.username, created.TakeStatus()});
      }
      continue;
    }
    if (found->second == user.sub) {
      report.unchanged.push_back(handle);
      continue;
    }
    Status set = users.SetCognitoUserId(handle, user.sub);
    if (set.ok()) {
      report.changed.push_back({handle, user.sub, found->second});
    } else {
      report.failed.push_back({handle, user.username, std::move(set)});
    }
  }
  return report;
}

}  // namespace cruddur::identity
