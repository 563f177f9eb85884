// End-to-end tests over real sockets on 127.0.0.1 with port 0. Timeouts in the server are set
// short so the timeout tests are quick, while every wait on the client side is bounded
// generously (kClientTimeout) so a slow shared machine makes tests slow, never flaky.
#include "net/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cruddur::net {
namespace {

constexpr int kClientTimeoutSeconds = 20;

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

// A blocking test client over one TCP connection that reads responses framed by
// Content-Length (all the server sends).
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{kClientTimeoutSeconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends FIN (and stops reading) even while another process holds a copy of the descriptor.
  void Shutdown() {
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; false on EOF, reset or timeout before a whole response arrived.
  bool Read(ParsedResponse* out) {
    *out = ParsedResponse();
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    const std::string head = buf_.substr(0, header_end);
    buf_.erase(0, header_end + 4);
    if (head.compare(0, 9, "HTTP/1.1 ") != 0 || head.size() < 12) return false;
    out->status = std::stoi(head.substr(9, 3));
    size_t line_start = head.find("\r\n");
    while (line_start != std::string::npos) {
      line_start += 2;
      const size_t line_end = head.find("\r\n", line_start);
      const std::string line = head.substr(line_start, line_end - line_start);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out->headers[name] = line.substr(colon + 2);
      }
      line_start = line_end;
    }
    size_t length = 0;
    if (auto it = out->headers.find("content-length"); it != out->headers.end()) {
      length = std::stoul(it->second);
    }
    while (buf_.size() < length) {
      if (!Fill()) return false;
    }
    out->body = buf_.substr(0, length);
    buf_.erase(0, length);
    return true;
  }

  // Reads until the bytes received after the last response head contain `needle`; returns
  // them up to and including it and keeps the rest. False on EOF, reset or timeout first.
  bool ReadThrough(std::string_view needle, std::string* out) {
    size_t at;
    while ((at = buf_.find(needle)) == std::string::npos) {
      if (!Fill()) return false;
    }
    *out = buf_.substr(0, at + needle.size());
    buf_.erase(0, at + needle.size());
    return true;
  }

  // Shrinks the receive buffer (before connecting matters most; also works after).
  void SetReceiveBuffer(int bytes) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }

  // Everything the server sends until it closes the connection.
  std::string ReadUntilClose() {
    while (Fill()) {
    }
    return std::exchange(buf_, std::string());
  }

  // True when the server closes the connection (EOF or reset) with nothing further to read.
  bool WaitForClose() {
    char c;
    for (;;) {
      const ssize_t n = recv(fd_, &c, 1, 0);
      if (n == 0) return buf_.empty();
      if (n < 0) return errno == ECONNRESET && buf_.empty();
      buf_.push_back(c);
    }
  }

 private:
  bool Fill() {
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// Echoes "<method> <target> <body>" and the request's x-echo header, if any.
void EchoHandler(const HttpRequest& request, HttpResponse* response) {
  response->headers.emplace_back("Content-Type", "text/plain");
  if (const std::string* echo = request.Header("x-echo")) {
    response->headers.emplace_back("X-Echo", *echo);
  }
  response->body = request.method + " " + request.target + " " + request.body;
}

HttpServerOptions TestOptions() {
  HttpServerOptions options;
  options.port = 0;
  options.threads = 2;
  return options;
}

std::unique_ptr<HttpServer> StartServer(HttpServerOptions options,
                                        HttpHandler handler = EchoHandler) {
  auto server = HttpServer::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::string Post(std::string_view target, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

TEST(HttpServerTest, AnswersSimpleRequest) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->port(), 0);
  Client client(server->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Post("/x?y=1", "hello", "X-Echo: e\r\n")));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /x?y=1 hello");
  EXPECT_EQ(r.headers["content-length"], "17");
  EXPECT_EQ(r.headers["content-type"], "text/plain");
  EXPECT_EQ(r.headers["x-echo"], "e");
  EXPECT_EQ(r.headers["date"].size(), 29u);  // "Sun, 06 Nov 1994 08:49:37 GMT"
  EXPECT_EQ(r.headers.count("connection"), 0u);
}

TEST(HttpServerTest, ServerOwnsFramingHeadersAndRefusesResponseSplitting) {
  auto server = StartServer(TestOptions(), [](const HttpRequest&, HttpResponse* response) {
    response->status = 201;
    response->headers.emplace_back("Content-Length", "999");
    response->headers.emplace_back("X-Bad", "a\r\nInjected: yes");
    response->body = "ok";
  });
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers["content-length"], "2");
  EXPECT_EQ(r.headers.count("x-bad"), 0u);
  EXPECT_EQ(r.headers.count("injected"), 0u);
  EXPECT_EQ(r.body, "ok");
}

TEST(HttpServerTest, ThrowingHandlerGets500AndLoopSurvives) {
  auto server = StartServer(TestOptions(), [](const HttpRequest& request, HttpResponse* response) {
    if (request.target == "/throw") throw std::runtime_error("handler bug");
    response->body = "alive";
  });
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET /throw HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 500);
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "alive");
}

TEST(HttpServerTest, KeepsConnectionAliveAcrossRequests) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  for (int i = 0; i < 10; ++i) {
    const std::string body = "n" + std::to_string(i);
    ASSERT_TRUE(client.Send(Post("/k", body)));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r)) << i;
    EXPECT_EQ(r.body, "POST /k " + body);
  }
  EXPECT_EQ(server->open_connections(), 1);
}

TEST(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  std::string burst;
  for (int i = 0; i < 20; ++i) {
    burst += (i % 2 == 0) ? Post("/p" + std::to_string(i), std::string(i, 'b'))
                          : "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }
  ASSERT_TRUE(client.Send(burst));
  for (int i = 0; i < 20; ++i) {
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r)) << i;
    const std::string expected = (i % 2 == 0)
                                     ? "POST /p" + std::to_string(i) + " " + std::string(i, 'b')
                                     : "GET /p" + std::to_string(i) + " ";
    EXPECT_EQ(r.body, expected);
  }
}

TEST(HttpServerTest, DecodesChunkedBody) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n"));
  ASSERT_TRUE(client.Send("3\r\nefg\r\n0\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.body, "POST /c abcdefg");
}

TEST(HttpServerTest, AnswersExpectContinue) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send(
      "PUT /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 100);
  ASSERT_TRUE(client.Send("data"));
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "PUT /e data");
}

TEST(HttpServerTest, HonorsConnectionCloseAndHttp10) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  {
    Client client(server->port());
    ASSERT_TRUE(client.Send("GET /a HTTP/1.1\r\nConnection: close\r\n\r\n"));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r));
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    Client client(server->port());
    ASSERT_TRUE(client.Send("GET /b HTTP/1.0\r\n\r\n"));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r));
    EXPECT_EQ(r.body, "GET /b ");
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    Client client(server->port());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(client.Send("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      ParsedResponse r;
      ASSERT_TRUE(client.Read(&r));
      EXPECT_EQ(r.headers["connection"], "keep-alive");
    }
  }
}

TEST(HttpServerTest, HeadResponseHasLengthButNoBody) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("HEAD /h HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const std::string raw = client.ReadUntilClose();
  EXPECT_NE(raw.find("\r\nContent-Length: 8\r\n"), std::string::npos) << raw;  // "HEAD /h "
  EXPECT_EQ(raw.substr(raw.size() - 4), "\r\n\r\n") << raw;
}

TEST(HttpServerTest, BodyOverLimitGetsErrorResponderAnswerAndClose) {
  HttpServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  options.error_responder = [](HttpErrorKind kind) {
    HttpResponse response;
    response.status = kind == HttpErrorKind::kBodyTooLarge ? 413 : 400;
    response.headers.emplace_back("X-Kind", "custom");
    response.body = "too big";
    return response;
  };
  bool handler_called = false;
  auto server =
      StartServer(options, [&](const HttpRequest&, HttpResponse*) { handler_called = true; });
  ASSERT_NE(server, nullptr);
  {
    Client client(server->port());
    ASSERT_TRUE(client.Send(Post("/big", std::string(2000, 'z'))));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r));
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.body, "too big");
    EXPECT_EQ(r.headers["x-kind"], "custom");
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // Chunked: no declared length, refused once the decoded body passes the limit.
    Client client(server->port());
    std::string request = "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'q') + "\r\n";
    ASSERT_TRUE(client.Send(request));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r));
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // Exactly at the limit is fine.
    Client client(server->port());
    ASSERT_TRUE(client.Send(Post("/ok", std::string(1024, 'z'))));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r));
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_TRUE(handler_called);
}

TEST(HttpServerTest, OversizedHeadersAreRefused) {
  HttpServerOptions options = TestOptions();
  options.max_header_bytes = 1024;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 431);
  EXPECT_TRUE(client.WaitForClose());
}

TEST(HttpServerTest, MalformedRequestGets400) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  for (std::string_view garbage :
       {std::string_view("NOT HTTP AT ALL\r\n\r\n"),
        std::string_view("GET / HTTP/1.1\r\nX\r\n\r\n"),
        std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
    Client client(server->port());
    ASSERT_TRUE(client.Send(garbage));
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(client.WaitForClose());
  }
  // A good request after bad ones on other connections is still served.
  Client client(server->port());
  ASSERT_TRUE(client.Send(Post("/fine", "1")));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 200);
}

TEST(HttpServerTest, HeaderTimeoutDropsSlowClientWhileOthersAreServed) {
  HttpServerOptions options = TestOptions();
  options.threads = 1;  // the slow and the good client share one loop
  options.header_timeout_ms = 300;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  Client slow(server->port());
  ASSERT_TRUE(slow.Send("POST / HTTP/1.1\r\nHost: t\r\n"));
  const auto start = std::chrono::steady_clock::now();
  // Meanwhile another client is served normally.
  Client good(server->port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(good.Send(Post("/g", "x")));
    ParsedResponse r;
    ASSERT_TRUE(good.Read(&r));
    EXPECT_EQ(r.status, 200);
  }
  // Trickling more header bytes does not extend the deadline.
  slow.Send("X-A: 1\r\n");
  ParsedResponse r;
  ASSERT_TRUE(slow.Read(&r));
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(slow.WaitForClose());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options = TestOptions();
  options.idle_timeout_ms = 300;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send(Post("/i", "x")));
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_TRUE(client.WaitForClose());
}

TEST(HttpServerTest, ConnectionCapClosesExcessAndRecovers) {
  HttpServerOptions options = TestOptions();
  options.max_connections = 2;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  auto a = std::make_unique<Client>(server->port());
  Client b(server->port());
  ParsedResponse r;
  for (Client* c : {a.get(), &b}) {
    ASSERT_TRUE(c->Send(Post("/cap", "1")));
    ASSERT_TRUE(c->Read(&r));
  }
  EXPECT_EQ(server->open_connections(), 2);
  {
    Client excess(server->port());
    excess.Send(Post("/cap", "1"));
    EXPECT_TRUE(excess.WaitForClose());
  }
  // The capped connections keep working.
  ASSERT_TRUE(b.Send(Post("/cap", "2")));
  ASSERT_TRUE(b.Read(&r));
  EXPECT_EQ(r.status, 200);
  // Freeing a slot admits a new client once the server has seen the close.
  a.reset();
  bool admitted = false;
  for (int attempt = 0; attempt < 200 && !admitted; ++attempt) {
    Client next(server->port());
    admitted = next.Send(Post("/cap", "3")) && next.Read(&r) && r.status == 200;
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(admitted);
}

TEST(HttpServerTest, GracefulShutdownFinishesInFlightRequest) {
  std::promise<void> entered;
  auto entered_future = entered.get_future();
  std::atomic<bool> signalled{false};
  auto server = StartServer(TestOptions(), [&](const HttpRequest& request, HttpResponse* response) {
    if (!signalled.exchange(true)) entered.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    response->body = "finished " + request.body;
  });
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  Client idle(port);  // an idle keep-alive connection must not hold up the stop
  ASSERT_TRUE(idle.connected());
  Client client(port);
  ASSERT_TRUE(client.Send(Post("/slow", "work")));
  ASSERT_EQ(entered_future.wait_for(std::chrono::seconds(kClientTimeoutSeconds)),
            std::future_status::ready);
  server->RequestStop();
  server->Wait();
  ParsedResponse r;
  ASSERT_TRUE(client.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "finished work");
  EXPECT_TRUE(client.WaitForClose());
  EXPECT_TRUE(idle.WaitForClose());
  EXPECT_EQ(server->open_connections(), 0);
  Client after(port);
  EXPECT_FALSE(after.connected());
  server.reset();  // the destructor after Wait() is a no-op stop
}

TEST(HttpServerTest, ServesConcurrentClientsFromSeveralThreads) {
  std::atomic<int> handled{0};
  auto server = StartServer(TestOptions(), [&](const HttpRequest& request, HttpResponse* response) {
    handled.fetch_add(1);
    response->body = request.body;
  });
  ASSERT_NE(server, nullptr);
  constexpr int kThreads = 6;
  constexpr int kRequests = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client(server->port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = std::to_string(t) + ":" + std::to_string(i);
        ParsedResponse r;
        if (client.Send(Post("/", body)) && client.Read(&r) && r.body == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_EQ(handled.load(), kThreads * kRequests);
}

// Not a benchmark: thousands of keep-alive requests and hundreds of short connections, then
// every connection the server opened must be closed again.
TEST(HttpServerTest, SustainsManyRequestsWithoutLeakingConnections) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  int ok = 0;
  {
    Client client(server->port());
    for (int i = 0; i < 3000; ++i) {
      ParsedResponse r;
      if (client.Send(Post("/loop", "x")) && client.Read(&r) && r.status == 200) ++ok;
    }
  }
  for (int i = 0; i < 200; ++i) {
    Client client(server->port());
    ParsedResponse r;
    const bool close = i % 2 == 0;
    if (client.Send(Post("/short", "y", close ? "Connection: close\r\n" : "")) && client.Read(&r) &&
        r.status == 200) {
      ++ok;
    }
  }
  EXPECT_EQ(ok, 3200);
  bool drained = false;
  for (int attempt = 0; attempt < 400 && !drained; ++attempt) {
    drained = server->open_connections() == 0;
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(drained) << server->open_connections() << " connections still open";
}

TEST(HttpServerTest, BackpressureWhenClientDoesNotRead) {
  auto server = StartServer(TestOptions(), [](const HttpRequest&, HttpResponse* response) {
    response->body.assign(256 << 10, 'r');
  });
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  // Far more response bytes than socket buffers hold: the server must pause, not buffer all.
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += "GET / HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(client.Send(burst));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 64; ++i) {
    ParsedResponse r;
    ASSERT_TRUE(client.Read(&r)) << i;
    ASSERT_EQ(r.body.size(), size_t{256 << 10});
  }
}

TEST(HttpServerTest, StartFailsWhenAddressInUse) {
  auto first = StartServer(TestOptions());
  ASSERT_NE(first, nullptr);
  HttpServerOptions options = TestOptions();
  options.port = first->port();
  auto second = HttpServer::Start(options, EchoHandler);
  EXPECT_FALSE(second.ok());

  options.host = "not-an-address";
  options.port = 0;
  EXPECT_FALSE(HttpServer::Start(options, EchoHandler).ok());
}

// ---- Streaming responses (ResponseStream) ----

// Hands each streaming response's stream to the test thread.
class StreamCatcher {
 public:
  HttpHandler Handler(std::string first_body = "") {
    return [this, first_body](const HttpRequest& request, HttpResponse* response) {
      if (request.target != "/stream") return EchoHandler(request, response);
      response->headers.emplace_back("Content-Type", "text/event-stream");
      response->body = first_body;
      response->stream = ResponseStream::Create();
      response->stream->Write("[handler]");  // buffered until the head is sent
      std::lock_guard<std::mutex> lock(mu_);
      streams_.push_back(response->stream);
      cv_.notify_all();
    };
  }

  // The next stream handed out, or nullptr after kClientTimeoutSeconds.
  std::shared_ptr<ResponseStream> Next() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(kClientTimeoutSeconds),
                      [this] { return taken_ < streams_.size(); })) {
      return nullptr;
    }
    return streams_[taken_++];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<ResponseStream>> streams_;
  size_t taken_ = 0;
};

// Decodes a chunked body up to and including its last chunk; nullopt if malformed or cut short.
std::optional<std::string> Dechunk(std::string_view wire) {
  std::string body;
  for (;;) {
    const size_t eol = wire.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    size_t size = 0;
    const auto [end, ec] = std::from_chars(wire.data(), wire.data() + eol, size, 16);
    if (ec != std::errc() || end != wire.data() + eol) return std::nullopt;
    wire.remove_prefix(eol + 2);
    if (wire.size() < size + 2 || wire.substr(size, 2) != "\r\n") return std::nullopt;
    if (size == 0) return body;
    body.append(wire.substr(0, size));
    wire.remove_prefix(size + 2);
  }
}

bool WaitUntil(const std::function<bool()>& condition) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(kClientTimeoutSeconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(HttpServerStreamTest, ChunksWrittenFromAnotherThreadArriveInOrder) {
  StreamCatcher catcher;
  HttpServerOptions options = TestOptions();
  options.idle_timeout_ms = 200;  // a stream whose client reads is never idle
  auto server = StartServer(options, catcher.Handler("[body]"));
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\n\r\n"));
  ParsedResponse head;
  ASSERT_TRUE(client.Read(&head));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(head.headers["connection"], "close");
  EXPECT_EQ(head.headers["content-type"], "text/event-stream");
  EXPECT_EQ(head.headers.count("content-length"), 0u);
  std::shared_ptr<ResponseStream> stream = catcher.Next();
  ASSERT_NE(stream, nullptr);

  std::thread producer([stream] {
    for (int i = 0; i < 50; ++i) {
      EXPECT_TRUE(stream->Write("<" + std::to_string(i) + ">"));
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // Other connections are served while the stream is open.
  Client other(server->port());
  ASSERT_TRUE(other.Send(Post("/echo", "meanwhile")));
  ParsedResponse r;
  ASSERT_TRUE(other.Read(&r));
  EXPECT_EQ(r.body, "POST /echo meanwhile");
  producer.join();

  std::string wire;
  ASSERT_TRUE(client.ReadThrough("<49>\r\n", &wire));
  // Past the idle timeout with nothing to send, the stream stays open.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(stream->Write("<late>"));
  std::string late;
  ASSERT_TRUE(client.ReadThrough("<late>\r\n", &late));
  stream->Close();
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Write("<after close>"));
  // The last chunk, then the connection closes; the pipelined request is not answered.
  const std::string rest = client.ReadUntilClose();
  std::optional<std::string> body = Dechunk(wire + late + rest);
  ASSERT_TRUE(body.has_value()) << wire << late << rest;
  std::string expected = "[body][handler]";
  for (int i = 0; i < 50; ++i) expected += "<" + std::to_string(i) + ">";
  EXPECT_EQ(*body, expected + "<late>");
  EXPECT_TRUE(rest.ends_with("0\r\n\r\n")) << rest;
  EXPECT_EQ(rest.find("HTTP/1.1"), std::string::npos);
}

TEST(HttpServerStreamTest, ProducerNoticesClientDisconnect) {
  StreamCatcher catcher;
  auto server = StartServer(TestOptions(), catcher.Handler());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.1\r\n\r\n"));
  ParsedResponse head;
  ASSERT_TRUE(client.Read(&head));
  std::shared_ptr<ResponseStream> stream = catcher.Next();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->Write("x"));
  EXPECT_FALSE(stream->closed());
  client.Close();
  EXPECT_TRUE(WaitUntil([&] { return stream->closed(); }));
  EXPECT_FALSE(stream->Write("y"));
  EXPECT_TRUE(WaitUntil([&] { return server->open_connections() == 0; }));
}

TEST(HttpServerStreamTest, RequestStopEndsOpenStreamsPromptly) {
  StreamCatcher catcher;
  HttpServerOptions options = TestOptions();
  options.header_timeout_ms = 30000;  // the stop must not wait for the straggler cut-off
  auto server = StartServer(options, catcher.Handler());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.1\r\n\r\n"));
  ParsedResponse head;
  ASSERT_TRUE(client.Read(&head));
  std::shared_ptr<ResponseStream> stream = catcher.Next();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->Write("before stop"));
  std::string wire;
  ASSERT_TRUE(client.ReadThrough("before stop\r\n", &wire));

  const auto start = std::chrono::steady_clock::now();
  server->RequestStop();
  const std::string rest = client.ReadUntilClose();
  client.Close();
  server->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  std::optional<std::string> body = Dechunk(wire + rest);
  ASSERT_TRUE(body.has_value()) << wire << rest;
  EXPECT_EQ(*body, "[handler]before stop");
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Write("after stop"));
}

TEST(HttpServerStreamTest, ClientThatDoesNotReadIsDroppedAtTheBound) {
  StreamCatcher catcher;
  HttpServerOptions options = TestOptions();
  options.stream_max_pending_bytes = 64 << 10;
  auto server = StartServer(options, catcher.Handler());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  client.SetReceiveBuffer(4096);
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.1\r\n\r\n"));
  std::shared_ptr<ResponseStream> stream = catcher.Next();
  ASSERT_NE(stream, nullptr);
  // Nothing is read: the kernel buffers fill, then the stream's bound is hit.
  const std::string block(16 << 10, 's');
  size_t written = 0;
  while (stream->Write(block)) {
    written += block.size();
    ASSERT_LT(written, size_t{256} << 20) << "the bound never applied";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(stream->closed());
  EXPECT_TRUE(WaitUntil([&] { return server->open_connections() == 0; }));
  // Others are still served.
  Client other(server->port());
  ASSERT_TRUE(other.Send("GET /ok HTTP/1.1\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(other.Read(&r));
  EXPECT_EQ(r.status, 200);
}

TEST(HttpServerStreamTest, Http10StreamEndsWithTheConnection) {
  StreamCatcher catcher;
  auto server = StartServer(TestOptions(), catcher.Handler());
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  ASSERT_TRUE(client.Send("GET /stream HTTP/1.0\r\n\r\n"));
  std::shared_ptr<ResponseStream> stream = catcher.Next();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->Write("raw"));
  stream->Close();
  const std::string all = client.ReadUntilClose();
  EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos) << all;
  EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with("\r\n\r\n[handler]raw")) << all;
}

TEST(HttpServerStreamTest, HeadAndHandlersThatThrowEndTheStream) {
  std::shared_ptr<ResponseStream> thrown;
  StreamCatcher catcher;
  HttpHandler streaming = catcher.Handler();
  auto server = StartServer(TestOptions(), [&](const HttpRequest& request, HttpResponse* response) {
    if (request.target == "/throw") {
      response->stream = thrown = ResponseStream::Create();
      throw std::runtime_error("handler bug");
    }
    streaming(request, response);
  });
  ASSERT_NE(server, nullptr);
  Client head_client(server->port());
  ASSERT_TRUE(head_client.Send("HEAD /stream HTTP/1.1\r\n\r\n"));
  const std::string head = head_client.ReadUntilClose();
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
  std::shared_ptr<ResponseStream> stream = catcher.Next();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->closed());

  Client throw_client(server->port());
  ASSERT_TRUE(throw_client.Send("GET /throw HTTP/1.1\r\n\r\n"));
  ParsedResponse r;
  ASSERT_TRUE(throw_client.Read(&r));
  EXPECT_EQ(r.status, 500);
  ASSERT_NE(thrown, nullptr);
  EXPECT_TRUE(thrown->closed());
}

// A child forked while a connection is open (a command trigger forks before its exec) keeps a
// copy of the socket. When the server closes the connection, its events must stop all the same:
// they would otherwise name the freed connection (ASan caught this in the trigger tests as a
// heap-use-after-free in OnConnEvent; without ASan the read of freed memory may go unnoticed).
TEST(HttpServerTest, ClosedConnectionSharedWithAForkedChildRaisesNoEvents) {
  auto server = StartServer(TestOptions());
  ASSERT_NE(server, nullptr);
  auto first = std::make_unique<Client>(server->port());
  ASSERT_TRUE(first->connected());
  ASSERT_TRUE(first->Send(Post("/a", "x")));
  ParsedResponse r;
  ASSERT_TRUE(first->Read(&r));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Holds every descriptor for a while; only async-signal-safe calls after fork.
    timespec pause{1, 0};
    nanosleep(&pause, nullptr);
    _exit(0);
  }
  // The child holds copies of both ends (server and client live in this process): shutdown,
  // not close, reaches the server, which then closes its side while the child keeps it open.
  first->Shutdown();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Client second(server->port());
  ASSERT_TRUE(second.connected());
  ASSERT_TRUE(second.Send(Post("/b", "y")));
  ASSERT_TRUE(second.Read(&r));
  EXPECT_EQ(r.body, "POST /b y");
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
}

}  // namespace
}  // namespace cruddur::net
