#include "messaging/http_api.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "common/json.h"
#include "messaging/ddb_json.h"

namespace cruddur::messaging {
namespace {

// The seed's 422 codes that the store and service report as kValidation messages.
constexpr std::string_view kSeedCodes[] = {"message_blank", "message_exceed_max_chars",
                                           "cannot_message_self"};

// Flask-CORS as the seed configured it (methods, allow_headers), plus Authorization, which the
// frontend sends once Cognito is wired, and our paging header in expose_headers.
constexpr std::string_view kAllowMethods = "OPTIONS,GET,HEAD,POST";
constexpr std::string_view kAllowHeaders =
    "authorization,content-type,if-modified-since,traceparent";
constexpr std::string_view kExposeHeaders = "location,link,x-next-cursor";

void SetJson(net::HttpResponse* r, int status, std::string body) {
  r->status = status;
  r->headers.emplace_back("content-type", "application/json");
  r->body = std::move(body);
}

void SetError(net::HttpResponse* r, int status, std::string_view code, std::string_view message) {
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("error");
  o.String(code);
  if (!message.empty()) {
    o.Key("message");
    o.String(message);
  }
  o.w().EndObject();
  SetJson(r, status, o.str());
}

void SetCodes(net::HttpResponse* r, const std::vector<std::string>& codes) {
  ddb::JsonOut o;
  o.w().StartArray();
  for (const auto& c : codes) o.String(c);
  o.w().EndArray();
  SetJson(r, 422, o.str());
}

// Maps a Status from the service (or the users directory) to the response.
void SetStatus(net::HttpResponse* r, const Status& st) {
  switch (st.code()) {
    case ErrorCode::kResourceNotFound:
      return SetError(r, 404, "not_found", st.message());
    case ErrorCode::kAccessDenied:
      return SetError(r, 403, "forbidden", st.message());
    case ErrorCode::kUnrecognizedClient:
      return SetError(r, 401, "unauthorized", st.message());
    case ErrorCode::kValidation:
      for (std::string_view code : kSeedCodes) {
        if (st.message() == code) return SetCodes(r, {std::string(code)});
      }
      return SetError(r, 400, "bad_request", st.message());
    default:
      // A server-side failure (engine, users store); its text is for the log, not the client.
      return SetError(r, 500, "internal", "");
  }
}

void SetPage(net::HttpResponse* r, const Page<MessageGroup>& page) {
  ddb::JsonOut o;
  o.w().StartArray();
  for (const auto& g : page.items) {
    o.w().StartObject();
    WriteMessageGroupFields(o, g);
    o.w().EndObject();
  }
  o.w().EndArray();
  SetJson(r, 200, o.str());
  if (page.next_cursor) r->headers.emplace_back("x-next-cursor", *page.next_cursor);
}

void SetPage(net::HttpResponse* r, const Page<Message>& page) {
  ddb::JsonOut o;
  o.w().StartArray();
  for (const auto& m : page.items) {
    o.w().StartObject();
    WriteMessageFields(o, m);
    o.w().EndObject();
  }
  o.w().EndArray();
  SetJson(r, 200, o.str());
  if (page.next_cursor) r->headers.emplace_back("x-next-cursor", *page.next_cursor);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding ('+' as space in a query, as HTML forms send it); nullopt for a
// broken escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The value of `name` in a query string ("" when absent); nullopt when malformed.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return PercentDecode(pair.substr(eq + 1), true);
  }
  return std::string();
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// A string member of the body: absent or null -> nullopt in *out and true; a string -> its value;
// any other type -> false.
bool OptionalString(const json::Value& body, const char* name, std::optional<std::string>* out) {
  auto it = body.FindMember(name);
  if (it == body.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsString()) return false;
  *out = std::string(it->value.GetString(), it->value.GetStringLength());
  return true;
}

}  // namespace

MessagingHttpApi::MessagingHttpApi(MessagingService* service, identity::UsersDirectory* users,
                                   TokenVerifier verifier, MessagingHttpApiOptions options)
    : service_(service),
      users_(users),
      verifier_(std::move(verifier)),
      options_(std::move(options)) {
  if (!options_.clock) options_.clock = SystemClock();
}

net::HttpHandler MessagingHttpApi::AsHandler() {
  return [this](const net::HttpRequest& request, net::HttpResponse* response) {
    Handle(request, response);
  };
}

void MessagingHttpApi::Handle(const net::HttpRequest& request, net::HttpResponse* response) {
  const std::string* origin = request.Header("origin");
  const bool cors =
      origin != nullptr && !options_.frontend_url.empty() && *origin == options_.frontend_url;
  if (request.method == "OPTIONS") {
    response->status = 204;
    if (cors) {
      response->headers.emplace_back("access-control-allow-methods", kAllowMethods);
      response->headers.emplace_back("access-control-allow-headers", kAllowHeaders);
      response->headers.emplace_back("access-control-max-age", "600");
    }
  } else {
    const std::string_view target = request.target;
    const std::size_t q = target.find('?');
    const std::string_view path = target.substr(0, q);
    const std::string_view query =
        q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    try {
      Route(request, path, query, response);
    } catch (const json::JsonAssertion&) {
      // A type confusion in this file (a bug); answer instead of crashing the loop thread.
      *response = net::HttpResponse();
      SetError(response, 500, "internal", "");
    }
  }
  if (cors) {
    response->headers.emplace_back("access-control-allow-origin", *origin);
    response->headers.emplace_back("access-control-expose-headers", kExposeHeaders);
    response->headers.emplace_back("vary", "Origin");
  }
}

Result<MessagingHttpApi::Caller> MessagingHttpApi::Authenticate(const net::HttpRequest& request) {
  const std::string* header = request.Header("authorization");
  if (header == nullptr) return Status(ErrorCode::kUnrecognizedClient, "missing bearer token");
  std::string_view value = *header;
  constexpr std::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), value.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return Status(ErrorCode::kUnrecognizedClient, "missing bearer token");
  }
  std::string_view token = value.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return AuthenticateToken(token);
}

Result<MessagingHttpApi::Caller> MessagingHttpApi::AuthenticateToken(std::string_view token) {
  const std::int64_t now_seconds = options_.clock() / 1000000;
  if (options_.token_cache_capacity > 0) {
    std::lock_guard lock(token_cache_mu_);
    auto it = token_cache_.find(std::string(token));
    // The same token string is the same signed claims: only its expiry needs checking again.
    if (it != token_cache_.end()) {
      if (it->second.token_expires > now_seconds) return it->second;
      token_cache_.erase(it);
    }
  }
  CRUDDUR_ASSIGN_OR_RETURN(Caller caller, VerifyAndLookUp(token, now_seconds));
  if (options_.token_cache_capacity > 0) {
    std::lock_guard lock(token_cache_mu_);
    // Bounded without bookkeeping: a full cache starts over (tokens are re-verified once).
    if (token_cache_.size() >= options_.token_cache_capacity) token_cache_.clear();
    token_cache_.emplace(std::string(token), caller);
  }
  return caller;
}

Result<MessagingHttpApi::Caller> MessagingHttpApi::VerifyAndLookUp(std::string_view token,
                                                                   std::int64_t now_seconds) {
  CRUDDUR_ASSIGN_OR_RETURN(identity::AccessTokenClaims claims, verifier_(token, now_seconds));
  Result<std::string> uuid = users_->UuidFromCognitoUserId(claims.sub);
  if (uuid.status().code() == ErrorCode::kResourceNotFound ||
      uuid.status().code() == ErrorCode::kValidation) {
    return Status(ErrorCode::kUnrecognizedClient, "no user for this token");
  }
  CRUDDUR_RETURN_IF_ERROR(uuid.status());
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<identity::ShortProfile> profiles,
                           users_->UsersByUuids({*uuid}));
  if (profiles.empty()) return Status(ErrorCode::kUnrecognizedClient, "no user for this token");
  return Caller{std::move(profiles.front()), claims.exp};
}

void MessagingHttpApi::Route(const net::HttpRequest& request, std::string_view path,
                             std::string_view query, net::HttpResponse* response) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  constexpr std::string_view kMessages = "/api/messages/";
  constexpr std::string_view kUsers = "/api/users/@";
  constexpr std::string_view kShort = "/short";

  if (path == "/api/health-check") {
    if (!get) return SetError(response, 405, "method_not_allowed", "");
    return SetJson(response, 200, R"({"success":true,"ver":1})");
  }
  if (path.starts_with(kUsers) && path.ends_with(kShort) &&
      path.size() > kUsers.size() + kShort.size()) {
    if (!get) return SetError(response, 405, "method_not_allowed", "");
    std::optional<std::string> handle = PercentDecode(
        path.substr(kUsers.size(), path.size() - kUsers.size() - kShort.size()), false);
    if (!handle || handle->empty() || handle->size() > identity::kMaxHandleBytes) {
      return SetError(response, 404, "not_found", "unknown handle");
    }
    Result<identity::ShortProfile> profile = users_->ShortProfileByHandle(*handle);
    if (profile.status().code() == ErrorCode::kValidation) {
      return SetError(response, 404, "not_found", "unknown handle");
    }
    if (!profile.ok()) return SetStatus(response, profile.status());
    ddb::JsonOut o;
    o.w().StartObject();
    o.Key("uuid");
    o.String(profile->uuid);
    o.Key("handle");
    o.String(profile->handle);
    o.Key("display_name");
    o.String(profile->display_name);
    o.w().EndObject();
    return SetJson(response, 200, o.str());
  }

  if (path == "/api/events") {
    if (options_.events == nullptr) return SetError(response, 404, "not_found", "no such route");
    if (!get) return SetError(response, 405, "method_not_allowed", "");
    return Events(request, query, response);
  }

  const bool groups = path == "/api/message_groups";
  const bool post = path == "/api/messages";
  const bool messages = path.starts_with(kMessages) && path.size() > kMessages.size() &&
                        path.find('/', kMessages.size()) == std::string_view::npos;
  if (!groups && !post && !messages) return SetError(response, 404, "not_found", "no such route");
  if (post ? request.method != "POST" : !get) {
    return SetError(response, 405, "method_not_allowed", "");
  }

  Result<Caller> authenticated = Authenticate(request);
  if (!authenticated.ok()) return SetStatus(response, authenticated.status());
  const identity::ShortProfile* caller = &authenticated->profile;
  if (post) return PostMessage(*caller, request, response);

  std::optional<std::string> cursor = QueryParam(query, "cursor");
  if (!cursor) return SetError(response, 400, "bad_request", "invalid cursor");
  if (groups) {
    Result<Page<MessageGroup>> page = service_->MessageGroups(caller->uuid, *cursor);
    if (!page.ok()) return SetStatus(response, page.status());
    return SetPage(response, *page);
  }
  std::optional<std::string> group = PercentDecode(path.substr(kMessages.size()), false);
  if (!group) return SetError(response, 404, "not_found", "unknown message group");
  Result<Page<Message>> page = service_->Messages(caller->uuid, *group, *cursor);
  if (!page.ok()) return SetStatus(response, page.status());
  SetPage(response, *page);
}

void MessagingHttpApi::Events(const net::HttpRequest& request, std::string_view query,
                              net::HttpResponse* response) {
  std::optional<std::string> token = QueryParam(query, "access_token");
  if (!token) return SetError(response, 401, "unauthorized", "malformed access_token");
  Result<Caller> caller = token->empty() ? Authenticate(request) : AuthenticateToken(*token);
  if (!caller.ok()) return SetStatus(response, caller.status());
  std::shared_ptr<net::ResponseStream> stream = net::ResponseStream::Create();
  // Sent at once, so the page knows it is connected; the reconnect delay after a drop.
  stream->Write("retry: 2000\n\n");
  Status subscribed =
      options_.events->Subscribe(caller->profile.uuid, stream, caller->token_expires);
  if (!subscribed.ok()) {
    return SetError(response, 503, "too_many_streams", subscribed.message());
  }
  response->status = 200;
  response->headers.emplace_back("content-type", "text/event-stream");
  response->headers.emplace_back("cache-control", "no-cache");
  // nginx (and proxies that follow it) would otherwise buffer the stream.
  response->headers.emplace_back("x-accel-buffering", "no");
  response->stream = std::move(stream);
}

void MessagingHttpApi::PostMessage(const identity::ShortProfile& caller,
                                   const net::HttpRequest& request, net::HttpResponse* response) {
  json::Document body;
  if (!json::Parse(request.body, &body).ok() || !body.IsObject()) {
    return SetError(response, 400, "bad_request", "the body is not a JSON object");
  }
  std::optional<std::string> message, group, handle;
  if (!OptionalString(body, "message", &message) ||
      !OptionalString(body, "message_group_uuid", &group) ||
      !OptionalString(body, "handle", &handle)) {
    return SetError(response, 400, "bad_request",
                    "message, message_group_uuid and handle must be strings");
  }
  // As the seed's CreateMessage: a message_group_uuid means "update", otherwise "create".
  std::vector<std::string> codes;
  if (group) {
    if (IsBlank(*group)) codes.push_back("message_group_uuid_blank");
  } else {
    if (handle && handle->starts_with('@')) handle->erase(0, 1);
    if (!handle || IsBlank(*handle)) codes.push_back("user_receiver_handle_blank");
  }
  if (!message || IsBlank(*message)) {
    codes.push_back("message_blank");
  } else {
    std::optional<std::size_t> chars = Utf8Length(*message);
    if (!chars) {
      codes.push_back("message_invalid");
    } else if (*chars > kMaxMessageChars) {
      codes.push_back("message_exceed_max_chars");
    }
  }
  if (!group && handle && *handle == caller.handle) codes.push_back("cannot_message_self");
  if (!codes.empty()) return SetCodes(response, codes);

  Result<PostedMessage> posted = group ? service_->PostToGroup(caller, *group, *message)
                                       : service_->StartConversation(caller, *handle, *message);
  if (!posted.ok()) {
    if (!group && posted.status().code() == ErrorCode::kValidation &&
        posted.status().message() != "cannot_message_self") {
      return SetError(response, 404, "not_found", "unknown handle");
    }
    return SetStatus(response, posted.status());
  }
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("message_group_uuid");
  o.String(posted->message_group_uuid);
  WriteMessageFields(o, posted->message);
  o.w().EndObject();
  SetJson(response, 200, o.str());
}

}  // namespace cruddur::messaging
