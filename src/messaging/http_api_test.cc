#include "messaging/http_api.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json.h"
#include "identity/dev_issuer.h"
#include "messaging/test_env.h"

namespace cruddur::messaging {
namespace {

using msgtest::MessagingEnv;

constexpr char kIssuer[] = "http://127.0.0.1:4567/local-cognito";
constexpr char kClientId[] = "cruddur-local";
constexpr char kFrontend[] = "http://localhost:3000";

// One RSA key for the whole suite: generating one takes a while.
const identity::DevIssuer& Issuer() {
  static const identity::DevIssuer issuer =
      std::move(identity::DevIssuer::Generate({kIssuer, kClientId, 3600})).value();
  return issuer;
}

class HttpApiTest : public ::testing::Test {
 protected:
  HttpApiTest()
      : verifier_({kIssuer, kClientId, 60},
                  std::move(identity::Jwks::Parse(Issuer().JwksJson())).value()),
        service_(env_.store(), env_.users()),
        api_(
            &service_, env_.users(),
            [this](std::string_view token, std::int64_t now) {
              return verifier_.Verify(token, now);
            },
            MessagingHttpApiOptions{kFrontend, env_.clock().AsClock()}) {
    for (const char* handle : {"andrewbrown", "bayko", "londo"}) {
      EXPECT_TRUE(env_.users()->SetCognitoUserId(handle, std::string("sub-") + handle).ok());
    }
  }

  std::string Token(const std::string& handle) {
    return *Issuer().SignAccessToken("sub-" + handle, handle, env_.clock().Now() / 1000000);
  }

  net::HttpResponse Call(const std::string& method, const std::string& target,
                         const std::string& handle = "", const std::string& body = "") {
    net::HttpRequest req;
    req.method = method;
    req.target = target;
    if (!handle.empty()) req.headers.emplace_back("authorization", "Bearer " + Token(handle));
    req.body = body;
    net::HttpResponse resp;
    api_.Handle(req, &resp);
    return resp;
  }

  static std::string Header(const net::HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  MessagingEnv env_;
  identity::JwtVerifier verifier_;
  MessagingService service_;
  MessagingHttpApi api_;
};

TEST_F(HttpApiTest, HealthCheckAndShortProfile) {
  auto r = Call("GET", "/api/health-check");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"success":true,"ver":1})");
  r = Call("GET", "/api/users/@bayko/short");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"uuid":")" + env_.Profile("bayko").uuid +
                        R"(","handle":"bayko","display_name":"Andrew Bayko"})");
  EXPECT_EQ(Call("GET", "/api/users/@nobody/short").status, 404);
  EXPECT_EQ(Call("GET", "/api/users/@" + std::string(300, 'x') + "/short").status, 404);
  EXPECT_EQ(Call("GET", "/api/users/@%zz/short").status, 404);
  EXPECT_EQ(Call("GET", "/api/nothing").status, 404);
  EXPECT_EQ(Call("POST", "/api/health-check").status, 405);
}

TEST_F(HttpApiTest, ConversationEndToEnd) {
  auto r =
      Call("POST", "/api/messages", "andrewbrown", R"({"message":"hi bayko","handle":"bayko"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document created;
  ASSERT_TRUE(json::Parse(r.body, &created).ok());
  const std::string g = created["message_group_uuid"].GetString();
  EXPECT_EQ(std::string(created["handle"].GetString()), "andrewbrown");
  EXPECT_EQ(std::string(created["display_name"].GetString()), "Andrew Brown");
  EXPECT_EQ(std::string(created["message"].GetString()), "hi bayko");
  EXPECT_EQ(std::string(created["created_at"].GetString()), "2025-12-31T23:00:00.000000+00:00");
  EXPECT_TRUE(created.HasMember("uuid"));

  env_.clock().Advance(60000000);
  r = Call("POST", "/api/messages", "bayko",
           R"({"message":"hi andrew","message_group_uuid":")" + g + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;

  r = Call("GET", "/api/messages/" + g, "bayko");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document messages;
  ASSERT_TRUE(json::Parse(r.body, &messages).ok());
  ASSERT_EQ(messages.Size(), 2u);
  EXPECT_EQ(std::string(messages[0]["message"].GetString()), "hi bayko");
  EXPECT_EQ(std::string(messages[1]["handle"].GetString()), "bayko");
  for (const auto& m : messages.GetArray()) EXPECT_EQ(m.MemberCount(), 5u);
  EXPECT_EQ(Header(r, "x-next-cursor"), "");

  r = Call("GET", "/api/message_groups", "bayko");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document groups;
  ASSERT_TRUE(json::Parse(r.body, &groups).ok());
  ASSERT_EQ(groups.Size(), 1u);
  EXPECT_EQ(std::string(groups[0]["uuid"].GetString()), g);
  EXPECT_EQ(std::string(groups[0]["handle"].GetString()), "andrewbrown");
  EXPECT_EQ(groups[0].MemberCount(), 5u);

  // Not a participant; unknown group.
  EXPECT_EQ(Call("GET", "/api/messages/" + g, "londo").status, 403);
  EXPECT_EQ(Call("POST", "/api/messages", "londo",
                 R"({"message":"x","message_group_uuid":")" + g + R"("})")
                .status,
            403);
  EXPECT_EQ(Call("GET", "/api/messages/00000000-0000-4000-8000-000000000000", "bayko").status, 404);
  EXPECT_EQ(Call("GET", "/api/messages/not-a-uuid", "bayko").status, 404);
  EXPECT_EQ(Call("POST", "/api/messages", "bayko", R"({"message":"x","handle":"nobody"})").status,
            404);
}

TEST_F(HttpApiTest, PagingThroughTheHeaderCursor) {
  auto r = Call("POST", "/api/messages", "andrewbrown", R"({"message":"m0","handle":"bayko"})");
  json::Document created;
  ASSERT_TRUE(json::Parse(r.body, &created).ok());
  const std::string g = created["message_group_uuid"].GetString();
  for (int i = 1; i < 25; ++i) {
    env_.clock().Advance(1000000);
    ASSERT_EQ(
        Call("POST", "/api/messages", "bayko",
             R"({"message":"m)" + std::to_string(i) + R"(","message_group_uuid":")" + g + R"("})")
            .status,
        200);
  }
  r = Call("GET", "/api/messages/" + g, "andrewbrown");
  json::Document page;
  ASSERT_TRUE(json::Parse(r.body, &page).ok());
  EXPECT_EQ(page.Size(), 20u);
  EXPECT_EQ(std::string(page[0]["message"].GetString()), "m5");
  const std::string cursor = Header(r, "x-next-cursor");
  ASSERT_FALSE(cursor.empty());
  r = Call("GET", "/api/messages/" + g + "?cursor=" + cursor, "andrewbrown");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(json::Parse(r.body, &page).ok());
  ASSERT_EQ(page.Size(), 5u);
  EXPECT_EQ(std::string(page[0]["message"].GetString()), "m0");
  EXPECT_EQ(Header(r, "x-next-cursor"), "");
  EXPECT_EQ(Call("GET", "/api/messages/" + g + "?cursor=garbage", "andrewbrown").status, 400);
  EXPECT_EQ(Call("GET", "/api/message_groups?cursor=%zz", "andrewbrown").status, 400);
}

TEST_F(HttpApiTest, UnauthorizedRequests) {
  EXPECT_EQ(Call("GET", "/api/message_groups").status, 401);
  net::HttpRequest req;
  req.method = "GET";
  req.target = "/api/message_groups";
  for (std::string value : {"Bearer nonsense", "Basic abc", "Bearer ", "bearer a.b.c"}) {
    req.headers = {{"authorization", value}};
    net::HttpResponse resp;
    api_.Handle(req, &resp);
    EXPECT_EQ(resp.status, 401) << value;
  }
  // Expired: the clock moves past the token's hour (and the leeway). The token was accepted
  // (and so remembered by the token cache) first: the cache must not outlive the token.
  req.headers = {{"authorization", "Bearer " + Token("bayko")}};
  net::HttpResponse resp;
  api_.Handle(req, &resp);
  EXPECT_EQ(resp.status, 200);
  env_.clock().Advance(2LL * 3600 * 1000000);
  resp = net::HttpResponse();
  api_.Handle(req, &resp);
  EXPECT_EQ(resp.status, 401);
  // A valid token whose sub is nobody's.
  req.headers = {
      {"authorization",
       "Bearer " + *Issuer().SignAccessToken("sub-ghost", "ghost", env_.clock().Now() / 1000000)}};
  api_.Handle(req, &resp);
  EXPECT_EQ(resp.status, 401);
}

TEST_F(HttpApiTest, ValidationCodesAndMalformedBodies) {
  auto codes = [&](const std::string& body) {
    auto r = Call("POST", "/api/messages", "andrewbrown", body);
    return std::to_string(r.status) + " " + r.body;
  };
  EXPECT_EQ(codes(R"({"message":"","handle":"bayko"})"), R"(422 ["message_blank"])");
  EXPECT_EQ(codes(R"({"handle":"bayko"})"), R"(422 ["message_blank"])");
  EXPECT_EQ(codes(R"({"message":"hi"})"), R"(422 ["user_receiver_handle_blank"])");
  EXPECT_EQ(codes(R"({"message":"","message_group_uuid":""})"),
            R"(422 ["message_group_uuid_blank","message_blank"])");
  EXPECT_EQ(codes(R"({"message":")" + std::string(1025, 'x') + R"(","handle":"bayko"})"),
            R"(422 ["message_exceed_max_chars"])");
  EXPECT_EQ(codes(R"({"message":"me","handle":"andrewbrown"})"), R"(422 ["cannot_message_self"])");
  EXPECT_EQ(codes("{\"message\":\"\xff\",\"handle\":\"bayko\"}"), R"(422 ["message_invalid"])");
  EXPECT_EQ(codes("{not json").substr(0, 3), "400");
  EXPECT_EQ(codes("[1]").substr(0, 3), "400");
  EXPECT_EQ(codes(R"({"message":5,"handle":"bayko"})").substr(0, 3), "400");
  EXPECT_EQ(codes(std::string(200, '[')).substr(0, 3), "400");
  EXPECT_EQ(codes(R"({"message":"ok","handle":"@bayko"})").substr(0, 3), "200");
}

TEST_F(HttpApiTest, CorsForTheFrontendOnly) {
  net::HttpRequest req;
  req.method = "OPTIONS";
  req.target = "/api/messages";
  req.headers = {{"origin", kFrontend}, {"access-control-request-method", "POST"}};
  net::HttpResponse resp;
  api_.Handle(req, &resp);
  EXPECT_EQ(resp.status, 204);
  EXPECT_EQ(Header(resp, "access-control-allow-origin"), kFrontend);
  EXPECT_NE(Header(resp, "access-control-allow-headers").find("authorization"), std::string::npos);
  req.method = "GET";
  req.target = "/api/health-check";
  resp = net::HttpResponse();
  api_.Handle(req, &resp);
  EXPECT_EQ(Header(resp, "access-control-allow-origin"), kFrontend);
  EXPECT_NE(Header(resp, "access-control-expose-headers").find("x-next-cursor"), std::string::npos);
  req.headers = {{"origin", "http://evil.example"}};
  resp = net::HttpResponse();
  api_.Handle(req, &resp);
  EXPECT_EQ(Header(resp, "access-control-allow-origin"), "");
}

// The same API on a real net::HttpServer (port 0), spoken to over a socket.
TEST_F(HttpApiTest, OverARealServer) {
  auto server = net::HttpServer::Start({"127.0.0.1", 0, 1}, api_.AsHandler());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((*server)->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string body = R"({"message":"over the wire","handle":"bayko"})";
  const std::string request = "POST /api/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              Token("andrewbrown") + "\r\nContent-Type: application/json\r\n" +
                              "Content-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
  close(fd);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  EXPECT_NE(response.find(R"("message":"over the wire")"), std::string::npos) << response;
}

}  // namespace
}  // namespace cruddur::messaging
