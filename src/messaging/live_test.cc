#include "messaging/live.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/json.h"
#include "identity/dev_issuer.h"
#include "messaging/http_api.h"
#include "messaging/test_env.h"

namespace cruddur::messaging {
namespace {

using msgtest::MessagingEnv;

constexpr char kIssuer[] = "http://127.0.0.1:4567/local-cognito";
constexpr char kClientId[] = "cruddur-local";
constexpr int kClientTimeoutSeconds = 20;

TEST(SseEventTest, FramesEventsAndSplitsLines) {
  EXPECT_EQ(SseEvent("group", R"({"a":1})"), "event: group\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseEvent("x", "one\ntwo"), "event: x\ndata: one\ndata: two\n\n");
}

TEST(EventHubTest, BoundsStreamsPerUserAndInTotal) {
  EventHubOptions options;
  options.max_streams_per_user = 2;
  options.max_streams = 3;
  EventHub hub(options);
  auto a1 = net::ResponseStream::Create(), a2 = net::ResponseStream::Create(),
       a3 = net::ResponseStream::Create();
  ASSERT_TRUE(hub.Subscribe("a", a1, 0).ok());
  ASSERT_TRUE(hub.Subscribe("a", a2, 0).ok());
  ASSERT_TRUE(hub.Subscribe("a", a3, 0).ok());  // the oldest of a's makes room
  EXPECT_TRUE(a1->closed());
  EXPECT_FALSE(a2->closed());
  EXPECT_EQ(hub.stream_count(), 2u);
  ASSERT_TRUE(hub.Subscribe("b", net::ResponseStream::Create(), 0).ok());
  auto c1 = net::ResponseStream::Create();
  EXPECT_EQ(hub.Subscribe("c", c1, 0).code(), ErrorCode::kThrottling);
  EXPECT_FALSE(c1->closed());  // refused, not taken: the caller answers 503
  // An ended stream is forgotten at the next write to it, which frees its slot.
  a2->Close();
  hub.Publish("a", "message", "{}");
  EXPECT_EQ(hub.stream_count(), 2u);
  EXPECT_TRUE(hub.Subscribe("c", c1, 0).ok());
}

TEST(EventHubTest, EndsStreamsWhoseTokenExpired) {
  ManualClock clock(1000 * 1000000LL);
  EventHubOptions options;
  options.clock = clock.AsClock();
  EventHub hub(options);
  auto stream = net::ResponseStream::Create();
  ASSERT_TRUE(hub.Subscribe("a", stream, 1100).ok());
  hub.Publish("a", "message", "{}");
  EXPECT_FALSE(stream->closed());
  clock.Advance(100 * 1000000LL);
  hub.Publish("a", "message", "{}");
  EXPECT_TRUE(stream->closed());
  EXPECT_EQ(hub.stream_count(), 0u);
}

// One RSA key for the whole suite: generating one takes a while.
const identity::DevIssuer& Issuer() {
  static const identity::DevIssuer issuer =
      std::move(identity::DevIssuer::Generate({kIssuer, kClientId, 3600})).value();
  return issuer;
}

// A client of one streaming response over a real socket. It keeps the raw bytes: each event is
// written in one piece, so it sits whole inside one chunk.
class SseClient {
 public:
  SseClient(uint16_t port, const std::string& target, const std::string& extra_headers = "") {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{0, 50000};  // short reads; deadlines are kept by the callers
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra_headers + "\r\n";
    EXPECT_EQ(send(fd_, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
  }
  ~SseClient() { close(fd_); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Reads until the bytes received contain `needle` (true) or `seconds` pass or the server
  // closes (false).
  bool WaitFor(std::string_view needle, double seconds = kClientTimeoutSeconds) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(seconds));
    while (received_.find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || closed_) return false;
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) closed_ = true;
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  // The data line of the first `event: <name>` received; empty if none.
  std::string Data(std::string_view name) const {
    const std::string marker = "event: " + std::string(name) + "\ndata: ";
    const size_t at = received_.find(marker);
    if (at == std::string::npos) return "";
    const size_t start = at + marker.size();
    return received_.substr(start, received_.find('\n', start) - start);
  }

  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

class LiveEventsTest : public ::testing::Test {
 protected:
  LiveEventsTest()
      : verifier_({kIssuer, kClientId, 60},
                  std::move(identity::Jwks::Parse(Issuer().JwksJson())).value()),
        service_(env_.store(), env_.users()),
        hub_(HubOptions()),
        api_(
            &service_, env_.users(),
            [this](std::string_view token, std::int64_t now) {
              return verifier_.Verify(token, now);
            },
            MessagingHttpApiOptions{"", env_.clock().AsClock(), &hub_}),
        handler_(
            env_.client(), "cruddur-messages",
            [this](const std::string& group, const std::vector<std::string>& owners) {
              service_.OnGroupChanged(group, owners);
            },
            hub_.AsGroupUpdatedCallback()) {
    for (const char* handle : {"andrewbrown", "bayko", "londo"}) {
      EXPECT_TRUE(env_.users()->SetCognitoUserId(handle, std::string("sub-") + handle).ok());
    }
    auto server = net::HttpServer::Start({"127.0.0.1", 0, 2}, api_.AsHandler());
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  EventHubOptions HubOptions() {
    EventHubOptions options;
    options.heartbeat_interval = std::chrono::milliseconds(100);
    options.clock = env_.clock().AsClock();
    return options;
  }

  std::string Token(const std::string& handle) {
    return *Issuer().SignAccessToken("sub-" + handle, handle, env_.clock().Now() / 1000000);
  }

  std::string Get(const std::string& target, const std::string& handle) {
    net::HttpRequest req;
    req.method = "GET";
    req.target = target;
    req.headers.emplace_back("authorization", "Bearer " + Token(handle));
    net::HttpResponse resp;
    api_.Handle(req, &resp);
    EXPECT_EQ(resp.status, 200) << resp.body;
    return resp.body;
  }

  // Waits until the hub holds `n` streams (a client's request has been handled).
  bool WaitForStreams(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (hub_.stream_count() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  MessagingEnv env_;
  identity::JwtVerifier verifier_;
  MessagingService service_;
  EventHub hub_;
  MessagingHttpApi api_;
  MessageStreamHandler handler_;
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(LiveEventsTest, ParticipantsReceiveMessageAndGroupEventsWithinASecond) {
  SseClient bayko(server_->port(), "/api/events?access_token=" + Token("bayko"));
  SseClient andrew(server_->port(), "/api/events",
                   "Authorization: Bearer " + Token("andrewbrown") + "\r\n");
  SseClient londo(server_->port(), "/api/events?access_token=" + Token("londo"));
  ASSERT_TRUE(bayko.WaitFor("retry: 2000\n\n"));
  ASSERT_TRUE(andrew.WaitFor("retry: 2000\n\n"));
  ASSERT_TRUE(londo.WaitFor("retry: 2000\n\n"));
  for (const SseClient* c : {&bayko, &andrew, &londo}) {
    const std::string& head = c->received();
    EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
    EXPECT_NE(head.find("content-type: text/event-stream\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("cache-control: no-cache\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("x-accel-buffering: no\r\n"), std::string::npos) << head;
  }
  ASSERT_TRUE(WaitForStreams(3));

  auto posted =
      service_.StartConversation(env_.Profile("andrewbrown"), "bayko", "live from andrew");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  ASSERT_TRUE(env_.RunStreamHandler(&handler_).ok());
  const auto published = std::chrono::steady_clock::now();
  ASSERT_TRUE(bayko.WaitFor("event: group\n", 1.0)) << bayko.received();
  EXPECT_LT(std::chrono::steady_clock::now() - published, std::chrono::seconds(1));
  ASSERT_TRUE(andrew.WaitFor("event: group\n", 1.0)) << andrew.received();

  // The group event is bayko's entry of GET /api/message_groups, exactly.
  json::Document groups;
  ASSERT_TRUE(json::Parse(Get("/api/message_groups", "bayko"), &groups).ok());
  ASSERT_EQ(groups.Size(), 1u);
  EXPECT_EQ(bayko.Data("group"), json::ToString(groups[0]));
  json::Document andrew_groups;
  ASSERT_TRUE(json::Parse(Get("/api/message_groups", "andrewbrown"), &andrew_groups).ok());
  EXPECT_EQ(andrew.Data("group"), json::ToString(andrew_groups[0]));

  // The message event is GET /api/messages' entry plus the group's uuid, sent before the group.
  const std::string g = posted->message_group_uuid;
  json::Document messages;
  ASSERT_TRUE(json::Parse(Get("/api/messages/" + g, "bayko"), &messages).ok());
  ASSERT_EQ(messages.Size(), 1u);
  const std::string entry = json::ToString(messages[0]);
  const std::string expected = R"({"message_group_uuid":")" + g + R"(",)" + entry.substr(1);
  EXPECT_EQ(bayko.Data("message"), expected);
  EXPECT_EQ(andrew.Data("message"), expected);
  EXPECT_LT(bayko.received().find("event: message"), bayko.received().find("event: group"));

  // A second message in the same group reaches bayko too; londo, in no group, gets nothing but
  // heartbeats.
  env_.clock().Advance(1000000);
  ASSERT_TRUE(service_.PostToGroup(env_.Profile("andrewbrown"), g, "second").ok());
  ASSERT_TRUE(env_.RunStreamHandler(&handler_).ok());
  ASSERT_TRUE(bayko.WaitFor(R"("message":"second")", 1.0)) << bayko.received();
  ASSERT_TRUE(londo.WaitFor(": ping\n\n"));
  EXPECT_EQ(londo.received().find("event:"), std::string::npos) << londo.received();
}

TEST_F(LiveEventsTest, RefusesMissingAndBadTokens) {
  for (const std::string target :
       {"/api/events", "/api/events?access_token=nonsense", "/api/events?access_token=%zz"}) {
    SseClient client(server_->port(), target);
    ASSERT_TRUE(client.WaitFor("\r\n\r\n")) << target;
    EXPECT_TRUE(client.received().starts_with("HTTP/1.1 401")) << client.received();
  }
  SseClient ghost(server_->port(), "/api/events?access_token=" +
                                       *Issuer().SignAccessToken("sub-ghost", "ghost",
                                                                 env_.clock().Now() / 1000000));
  ASSERT_TRUE(ghost.WaitFor("\r\n\r\n"));
  EXPECT_TRUE(ghost.received().starts_with("HTTP/1.1 401")) << ghost.received();
  EXPECT_EQ(hub_.stream_count(), 0u);
}

TEST_F(LiveEventsTest, StreamEndsWhenTheTokenExpiresOrTheServerStops) {
  {
    SseClient expiring(server_->port(), "/api/events?access_token=" + Token("bayko"));
    ASSERT_TRUE(expiring.WaitFor("retry: 2000\n\n"));
    env_.clock().Advance(2LL * 3600 * 1000000);  // past the token's hour
    // The next heartbeat ends it: the last chunk, then the server closes.
    EXPECT_TRUE(expiring.WaitFor("0\r\n\r\n")) << expiring.received();
  }
  ASSERT_TRUE(WaitForStreams(0));

  auto open =
      std::make_unique<SseClient>(server_->port(), "/api/events?access_token=" + Token("bayko"));
  ASSERT_TRUE(open->WaitFor("retry: 2000\n\n"));
  const auto start = std::chrono::steady_clock::now();
  server_->RequestStop();
  EXPECT_TRUE(open->WaitFor("0\r\n\r\n", 5.0)) << open->received();
  open.reset();  // as a browser does once the response ended
  server_->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace cruddur::messaging
