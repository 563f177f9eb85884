// The messaging HTTP API: the seed's Flask routes and JSON, on net::HttpServer.
//
//   GET  /api/health-check                  {"success":true,"ver":1}
//   GET  /api/message_groups[?cursor=]      [{uuid, display_name, handle, message, created_at}]
//   GET  /api/messages/<group>[?cursor=]    [{uuid, display_name, handle, message, created_at}]
//                                           oldest to newest
//   POST /api/messages                      {message, message_group_uuid} posts into a group,
//                                           {message, handle} starts a conversation; answers
//                                           {message_group_uuid, uuid, display_name, handle,
//                                           message, created_at} (uuid: the message's)
//   GET  /api/users/@<handle>/short         {uuid, handle, display_name} (no token, as the seed)
//   GET  /api/events[?access_token=]        live updates as server-sent events (messaging/live.h),
//                                           when an EventHub is configured (else 404)
//
// Paging: the next (older) page's cursor is in the X-Next-Cursor response header, absent on the
// last page; pass it back as ?cursor=. Bodies stay the seed's bare arrays, so the seed's
// frontend works unchanged.
//
// Auth: `Authorization: Bearer <access token>`, checked by the injected verifier; the token's
// sub is looked up as users.cognito_user_id. /api/events also takes the token as
// ?access_token= (tried first), since a browser's EventSource cannot send headers.
//
// Statuses: 200; 401 {"error":"unauthorized"} missing/invalid token or no user with that sub;
// 403 {"error":"forbidden"} not a participant; 404 {"error":"not_found"} unknown group, handle
// or route; 405 wrong method; 400 {"error":"bad_request"} malformed JSON or a malformed cursor;
// 503 {"error":"too_many_streams"} the EventHub holds its maximum of streams;
// 422 a JSON list of every failed check: message_blank, message_exceed_max_chars (over 1024
// code points), message_group_uuid_blank, user_receiver_handle_blank, cannot_message_self,
// message_invalid (not a string or not UTF-8). 500 only for server-side failures (the engine or
// the users store failing), never for anything a client sends.
//
// CORS: when the request's Origin equals frontend_url, responses carry
// Access-Control-Allow-Origin for it (and expose X-Next-Cursor); OPTIONS on any path is the
// preflight answer (204).
//
// Thread-safety: Handle may run on every loop thread at once. Everything injected must outlive
// the API object and be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "identity/jwt.h"
#include "identity/users_directory.h"
#include "messaging/clock.h"
#include "messaging/live.h"
#include "messaging/service.h"
#include "net/http_server.h"

namespace cruddur::messaging {

// Verifies an access token at a time (JwtVerifier::Verify or RefreshingJwtVerifier::Verify
// bound to an object).
using TokenVerifier = std::function<Result<identity::AccessTokenClaims>(
    std::string_view token, std::int64_t now_unix_seconds)>;

struct MessagingHttpApiOptions {
  std::string frontend_url;    // FRONTEND_URL; empty: no CORS headers
  Clock clock;                 // for token expiry; SystemClock() when empty
  EventHub* events = nullptr;  // serves GET /api/events when set; must outlive the API
  // Verified tokens remembered (token -> caller) until they expire, so a busy client's requests
  // skip the RS256 check and the users-directory lookups. 0 turns it off. A renamed user shows
  // the new name once their current token expires (at most an hour).
  std::size_t token_cache_capacity = 10000;
};

class MessagingHttpApi {
 public:
  MessagingHttpApi(MessagingService* service, identity::UsersDirectory* users,
                   TokenVerifier verifier, MessagingHttpApiOptions options);

  void Handle(const net::HttpRequest& request, net::HttpResponse* response);

  // A handler for net::HttpServer calling Handle on this object.
  net::HttpHandler AsHandler();

 private:
  struct Caller {
    identity::ShortProfile profile;
    std::int64_t token_expires = 0;  // the access token's exp (unix seconds)
  };

  // The caller whose bearer token this request carries, or a Status mapped to 401.
  Result<Caller> Authenticate(const net::HttpRequest& request);
  Result<Caller> AuthenticateToken(std::string_view token);
  // The RS256 check and the users-directory lookups behind AuthenticateToken's cache.
  Result<Caller> VerifyAndLookUp(std::string_view token, std::int64_t now_seconds);
  void Events(const net::HttpRequest& request, std::string_view query, net::HttpResponse* response);
  void Route(const net::HttpRequest& request, std::string_view path, std::string_view query,
             net::HttpResponse* response);
  void PostMessage(const identity::ShortProfile& caller, const net::HttpRequest& request,
                   net::HttpResponse* response);

  MessagingService* service_;
  identity::UsersDirectory* users_;
  TokenVerifier verifier_;
  MessagingHttpApiOptions options_;
  std::mutex token_cache_mu_;
  std::unordered_map<std::string, Caller> token_cache_;  // bounded by token_cache_capacity
};

}  // namespace cruddur::messaging
