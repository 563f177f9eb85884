// The HTTP client against real servers on 127.0.0.1: a `cruddur dynamodb` engine (in memory)
// for the protocol and error mapping, and a net::HttpServer with scripted answers for the
// retry policy. Sleeps go through the client's seam, so retries cost no wall time.
#include "dynamo/client/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "dynamo/server/dynamo_service.h"
#include "dynamo/storage/engine.h"
#include "net/http_server.h"

namespace cruddur::dynamo {
namespace {

constexpr char kAccessKey[] = "AKIDTEST";
constexpr char kSecret[] = "test-secret";

std::string Crc32Of(const std::string& body) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return std::to_string(static_cast<uint32_t>(crc));
}

// Sleeps recorded instead of slept.
struct SleepLog {
  std::mutex mu;
  std::vector<std::chrono::milliseconds> sleeps;
};

HttpDynamoClientOptions TestOptions(uint16_t port, SleepLog* log) {
  HttpDynamoClientOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(port);
  options.region = "us-east-1";
  options.credentials = {kAccessKey, kSecret, ""};
  options.connect_timeout = std::chrono::milliseconds(2000);
  options.request_timeout = std::chrono::milliseconds(20000);
  options.random_unit = [] { return 0.999; };
  options.sleep = [log](std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(log->mu);
    log->sleeps.push_back(d);
  };
  return options;
}

// ---- against a real engine ----

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWith(DynamoServiceOptions{}); }

  void StartWith(DynamoServiceOptions service_options, int max_attempts = 10) {
    // A second start replaces everything, users of the engine first.
    client_.reset();
    server_.reset();
    service_.reset();
    storage::EngineOptions engine_options;
    engine_options.path = "/http-client-test";
    engine_options.in_memory = true;
    auto engine = storage::Engine::Open(engine_options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    service_ = std::make_unique<DynamoService>(engine_.get(), std::move(service_options));
    net::HttpServerOptions http;
    http.port = 0;
    http.threads = 2;
    auto server =
        net::HttpServer::Start(http, [this](const net::HttpRequest& req, net::HttpResponse* resp) {
          service_->Handle(req, resp);
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    HttpDynamoClientOptions client_options = TestOptions(server_->port(), &sleeps_);
    client_options.max_attempts = max_attempts;
    auto client = HttpDynamoClient::Create(client_options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  void CreateTable(const std::string& name) {
    auto created = client_->Call(Api::kDynamoDB, "CreateTable", R"({"TableName":")" + name + R"(",
          "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
          "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
          "BillingMode":"PAY_PER_REQUEST"})");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  SleepLog sleeps_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<DynamoService> service_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<HttpDynamoClient> client_;
};

// The engine's throttling injection (`cruddur dynamodb --inject-throttling 2`): two of every
// three item requests are refused, and the client's retries still get every write through.
TEST_F(EngineTest, RetriesGetThroughAnEngineThatThrottles) {
  DynamoServiceOptions throttled;
  throttled.inject_throttling = 2;
  StartWith(throttled);
  CreateTable("throttled");  // control plane: never refused
  for (int i = 0; i < 20; ++i) {
    auto put = client_->Call(
        Api::kDynamoDB, "PutItem",
        R"({"TableName":"throttled","Item":{"pk":{"S":"k)" + std::to_string(i) + R"("}}})");
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  // Each call was refused twice and slept before each retry.
  EXPECT_EQ(sleeps_.sleeps.size(), 40u);
  auto scanned = client_->Call(Api::kDynamoDB, "Scan", R"({"TableName":"throttled"})");
  ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
  EXPECT_NE(scanned->find(R"("Count":20)"), std::string::npos) << *scanned;

  // With fewer attempts than refusals, the throttling error reaches the caller.
  DynamoServiceOptions always;
  always.inject_throttling = 1000;
  StartWith(always, /*max_attempts=*/3);
  CreateTable("refused");
  auto refused =
      client_->Call(Api::kDynamoDB, "GetItem", R"({"TableName":"refused","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(refused.status().code(), ErrorCode::kProvisionedThroughputExceeded);
}

TEST_F(EngineTest, CreatePutGetRoundTrip) {
  CreateTable("messages");
  auto put = client_->Call(Api::kDynamoDB, "PutItem",
                           R"({"TableName":"messages","Item":{"pk":{"S":"a"},"n":{"N":"1.50"}}})");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto got = client_->Call(Api::kDynamoDB, "GetItem",
                           R"({"TableName":"messages","Key":{"pk":{"S":"a"}}})");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  json::Document doc;
  ASSERT_TRUE(json::Parse(*got, &doc).ok());
  ASSERT_TRUE(doc.HasMember("Item"));
  EXPECT_STREQ(doc["Item"]["n"]["N"].GetString(), "1.5");
  EXPECT_EQ(client_->region(), "us-east-1");
  EXPECT_TRUE(sleeps_.sleeps.empty());
}

TEST_F(EngineTest, ErrorsAreMappedWithDetails) {
  CreateTable("cond");
  ASSERT_TRUE(client_
                  ->Call(Api::kDynamoDB, "PutItem",
                         R"({"TableName":"cond","Item":{"pk":{"S":"a"},"v":{"S":"old"}}})")
                  .ok());
  auto failed = client_->Call(Api::kDynamoDB, "PutItem", R"J({"TableName":"cond",
      "Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)",
      "ReturnValuesOnConditionCheckFailure":"ALL_OLD"})J");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kConditionalCheckFailed);
  EXPECT_EQ(failed.status().message(), "The conditional request failed");
  EXPECT_NE(failed.status().details_json().find(R"("Item":)"), std::string::npos)
      << failed.status().details_json();
  EXPECT_NE(failed.status().details_json().find(R"("old")"), std::string::npos);

  auto missing =
      client_->Call(Api::kDynamoDB, "GetItem", R"({"TableName":"nope","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(missing.status().details_json(), "");

  auto invalid = client_->Call(Api::kDynamoDB, "GetItem", R"({"TableName":"cond"})");
  EXPECT_EQ(invalid.status().code(), ErrorCode::kValidation);
  EXPECT_TRUE(sleeps_.sleeps.empty()) << "client errors are not retried";
}

TEST_F(EngineTest, TransactWriteItemsGetsATokenAndApplies) {
  CreateTable("txn");
  auto tx = client_->Call(Api::kDynamoDB, "TransactWriteItems", R"({"TransactItems":[
      {"Put":{"TableName":"txn","Item":{"pk":{"S":"1"}}}},
      {"Put":{"TableName":"txn","Item":{"pk":{"S":"2"}}}}]})");
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  auto scan = client_->Call(Api::kDynamoDB, "Scan", R"({"TableName":"txn","Select":"COUNT"})");
  ASSERT_TRUE(scan.ok());
  EXPECT_NE(scan->find(R"("Count":2)"), std::string::npos) << *scan;
}

TEST_F(EngineTest, ConcurrentCallsShareTheClient) {
  CreateTable("many");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string pk = std::to_string(t) + "-" + std::to_string(i);
        auto r = client_->Call(Api::kDynamoDB, "PutItem",
                               R"({"TableName":"many","Item":{"pk":{"S":")" + pk + R"("}}})");
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto scan = client_->Call(Api::kDynamoDB, "Scan", R"({"TableName":"many","Select":"COUNT"})");
  ASSERT_TRUE(scan.ok());
  EXPECT_NE(scan->find(R"("Count":100)"), std::string::npos) << *scan;
  // Pooled handles keep their connections: at most one per thread that ever ran at once.
  EXPECT_LE(server_->open_connections(), 4);
}

// ---- against a scripted server ----

struct Recorded {
  std::string target;
  std::string body;
  bool signature_valid = false;
  std::string scope_service;
};

class ScriptedTest : public ::testing::Test {
 protected:
  using Script = std::function<net::HttpResponse(int attempt, const net::HttpRequest&)>;

  void Start(Script script, int max_attempts = 10) {
    script_ = std::move(script);
    net::HttpServerOptions http;
    http.port = 0;
    http.threads = 1;
    auto server =
        net::HttpServer::Start(http, [this](const net::HttpRequest& req, net::HttpResponse* resp) {
          Recorded rec;
          const std::string* target = req.Header("x-amz-target");
          rec.target = target ? *target : "";
          rec.body = req.body;
          aws::VerifyOptions verify;
          verify.service = "dynamodb";
          verify.region = "us-east-1";
          verify.now_unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
          auto verified = verifier_.Verify(
              {req.method, req.target, req.headers, req.body},
              [](std::string_view key) -> Result<std::string> {
                if (key == kAccessKey) return std::string(kSecret);
                return Status(ErrorCode::kUnrecognizedClient, "unknown key");
              },
              verify);
          rec.signature_valid = verified.ok();
          if (verified.ok()) rec.scope_service = verified->scope.service;
          int attempt;
          Script script;
          {
            std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(rec);
            attempt = static_cast<int>(requests_.size());
            script = script_;
          }
          *resp = script(attempt, req);
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    HttpDynamoClientOptions options = TestOptions(server_->port(), &sleeps_);
    options.max_attempts = max_attempts;
    auto client = HttpDynamoClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  static net::HttpResponse Answer(int status, std::string body, bool good_crc = true) {
    net::HttpResponse resp;
    resp.status = status;
    resp.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
    resp.headers.emplace_back("x-amz-crc32", good_crc ? Crc32Of(body) : "12345");
    resp.body = std::move(body);
    return resp;
  }
  static net::HttpResponse Error(int status, const std::string& name,
                                 const std::string& extra = "") {
    return Answer(status, R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + name +
                              R"(","message":"scripted )" + name + "\"" + extra + "}");
  }

  // Forgets the requests seen so far and, when given, answers with `script` from now on.
  void Reset(Script script = nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.clear();
    if (script) script_ = std::move(script);
  }

  std::vector<Recorded> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  aws::SigV4 verifier_;
  Script script_;
  std::mutex mu_;
  std::vector<Recorded> requests_;
  SleepLog sleeps_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<HttpDynamoClient> client_;
};

TEST_F(ScriptedTest, RequestsAreSignedAndTargeted) {
  Start([](int, const net::HttpRequest& req) {
    const std::string* ct = req.Header("content-type");
    return Answer(200, ct != nullptr && *ct == "application/x-amz-json-1.0" ? "{}" : "bad");
  });
  auto r = client_->Call(Api::kDynamoDB, "ListTables", "{}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "{}");
  auto s = client_->Call(Api::kStreams, "ListStreams", "{}");
  ASSERT_TRUE(s.ok());
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "DynamoDB_20120810.ListTables");
  EXPECT_EQ(requests[1].target, "DynamoDBStreams_20120810.ListStreams");
  for (const auto& rec : requests) {
    EXPECT_TRUE(rec.signature_valid);
    EXPECT_EQ(rec.scope_service, "dynamodb");
  }
  // Both calls went over one kept-alive connection.
  EXPECT_EQ(server_->open_connections(), 1);
}

TEST_F(ScriptedTest, ThrottlingIsRetriedWithCappedJitteredBackoff) {
  Start([](int attempt, const net::HttpRequest&) {
    if (attempt == 1) return Error(400, "ThrottlingException");
    if (attempt == 2) return Error(400, "ProvisionedThroughputExceededException");
    if (attempt == 3) return Error(400, "RequestLimitExceeded");
    return Answer(200, R"({"TableNames":[]})");
  });
  auto r = client_->Call(Api::kDynamoDB, "ListTables", "{}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Requests().size(), 4u);
  // random_unit is 0.999: just under base * 2^retry (50, 100, 200 ms).
  ASSERT_EQ(sleeps_.sleeps.size(), 3u);
  EXPECT_EQ(sleeps_.sleeps[0].count(), 49);
  EXPECT_EQ(sleeps_.sleeps[1].count(), 99);
  EXPECT_EQ(sleeps_.sleeps[2].count(), 199);
  for (const auto& rec : Requests()) EXPECT_TRUE(rec.signature_valid);
}

TEST_F(ScriptedTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  Start([](int, const net::HttpRequest&) { return Error(500, "InternalServerError"); }, 3);
  auto r = client_->Call(Api::kDynamoDB, "GetItem", "{}");
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(r.status().message(), "scripted InternalServerError");
  EXPECT_EQ(Requests().size(), 3u);
  EXPECT_EQ(sleeps_.sleeps.size(), 2u);
}

TEST_F(ScriptedTest, BackoffIsCapped) {
  Start([](int, const net::HttpRequest&) { return Error(503, "ServiceUnavailable"); }, 12);
  auto r = client_->Call(Api::kDynamoDB, "GetItem", "{}");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(sleeps_.sleeps.size(), 11u);
  EXPECT_EQ(sleeps_.sleeps.back().count(), 19980);  // 0.999 * the 20 s cap
}

TEST_F(ScriptedTest, BadCrcIsRetriedThenIo) {
  Start([](int attempt, const net::HttpRequest&) {
    return Answer(200, R"({"Count":1})", attempt > 1);
  });
  auto r = client_->Call(Api::kDynamoDB, "Scan", "{}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Requests().size(), 2u);

  Reset([](int, const net::HttpRequest&) { return Answer(200, "{}", false); });
  auto bad = client_->Call(Api::kDynamoDB, "Scan", "{}");
  EXPECT_EQ(bad.status().code(), ErrorCode::kIo);
  EXPECT_NE(bad.status().message().find("x-amz-crc32"), std::string::npos);
  EXPECT_EQ(Requests().size(), 10u);
}

TEST_F(ScriptedTest, ClientErrorsAreNotRetried) {
  Start([](int, const net::HttpRequest&) {
    return Error(400, "ValidationException", R"(,"Extra":{"a":[1,2]})");
  });
  auto r = client_->Call(Api::kDynamoDB, "GetItem", "{}");
  EXPECT_EQ(r.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(r.status().message(), "scripted ValidationException");
  EXPECT_EQ(r.status().details_json(), R"("Extra":{"a":[1,2]})");
  EXPECT_EQ(Requests().size(), 1u);
  EXPECT_TRUE(sleeps_.sleeps.empty());
}

TEST_F(ScriptedTest, UnknownErrorTypesAndForeignBodies) {
  Start([](int attempt, const net::HttpRequest&) {
    if (attempt == 1) {
      return Answer(400, R"({"__type":"com.amazon.coral.service#SomethingNew","Message":"m"})");
    }
    return Answer(403, "<html>forbidden</html>");
  });
  auto unknown = client_->Call(Api::kDynamoDB, "GetItem", "{}");
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(unknown.status().message(), "SomethingNew: m");
  auto foreign = client_->Call(Api::kDynamoDB, "GetItem", "{}");
  EXPECT_EQ(foreign.status().code(), ErrorCode::kIo);
  EXPECT_NE(foreign.status().message().find("HTTP 403"), std::string::npos);
  EXPECT_EQ(Requests().size(), 2u);
}

TEST_F(ScriptedTest, TransactWriteItemsRetriesCarryOneToken) {
  Start([](int attempt, const net::HttpRequest&) {
    if (attempt <= 2) return Error(500, "InternalServerError");
    return Answer(200, "{}");
  });
  auto r = client_->Call(Api::kDynamoDB, "TransactWriteItems", R"({"TransactItems":[]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  std::string token;
  for (const auto& rec : requests) {
    json::Document doc;
    ASSERT_TRUE(json::Parse(rec.body, &doc).ok());
    ASSERT_TRUE(doc.HasMember("ClientRequestToken")) << rec.body;
    std::string t = doc["ClientRequestToken"].GetString();
    EXPECT_EQ(t.size(), 36u);
    if (token.empty()) token = t;
    EXPECT_EQ(t, token);
    EXPECT_TRUE(rec.signature_valid);
  }

  // A caller's own token is kept; two calls without one get different tokens.
  Reset([](int, const net::HttpRequest&) { return Answer(200, "{}"); });
  ASSERT_TRUE(client_
                  ->Call(Api::kDynamoDB, "TransactWriteItems",
                         R"({"TransactItems":[],"ClientRequestToken":"mine"})")
                  .ok());
  ASSERT_TRUE(client_->Call(Api::kDynamoDB, "TransactWriteItems", R"({"TransactItems":[]})").ok());
  requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].body.find(R"("ClientRequestToken":"mine")"), std::string::npos);
  EXPECT_EQ(requests[1].body.find(token), std::string::npos);
  // Other operations are sent as given.
  Reset();
  ASSERT_TRUE(client_->Call(Api::kDynamoDB, "PutItem", R"({"TableName":"x"})").ok());
  EXPECT_EQ(Requests()[0].body, R"({"TableName":"x"})");
}

TEST_F(ScriptedTest, OversizedResponseIsIoAndNotRetried) {
  Start([](int, const net::HttpRequest&) { return Answer(200, std::string(4096, ' ') + "{}"); });
  client_.reset();
  HttpDynamoClientOptions options = TestOptions(server_->port(), &sleeps_);
  options.max_response_bytes = 1024;
  auto client = HttpDynamoClient::Create(options);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Call(Api::kDynamoDB, "Scan", "{}");
  EXPECT_EQ(r.status().code(), ErrorCode::kIo);
  EXPECT_NE(r.status().message().find("larger than 1024"), std::string::npos);
  EXPECT_EQ(Requests().size(), 1u);
}

// A port nothing listens on: bound, never listened, closed.
uint16_t UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpDynamoClientTest, ConnectionRefusedIsIoAfterRetries) {
  SleepLog sleeps;
  HttpDynamoClientOptions options = TestOptions(UnusedPort(), &sleeps);
  options.max_attempts = 4;
  auto client = HttpDynamoClient::Create(options);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Call(Api::kDynamoDB, "ListTables", "{}");
  EXPECT_EQ(r.status().code(), ErrorCode::kIo);
  EXPECT_NE(r.status().message().find("failed"), std::string::npos) << r.status().message();
  EXPECT_EQ(sleeps.sleeps.size(), 3u);
}

TEST(HttpDynamoClientTest, CreateValidatesOptions) {
  HttpDynamoClientOptions options;
  options.region = "us-east-1";
  options.credentials = {"A", "S", ""};
  for (const char* bad :
       {"", "127.0.0.1:8000", "ftp://host", "http://", "http://u@h/", "http://h/?q=1"}) {
    options.endpoint = bad;
    EXPECT_EQ(HttpDynamoClient::Create(options).status().code(), ErrorCode::kValidation) << bad;
  }
  options.endpoint = "https://dynamodb.us-east-1.amazonaws.com";
  EXPECT_TRUE(HttpDynamoClient::Create(options).ok());
  options.max_attempts = 0;
  EXPECT_FALSE(HttpDynamoClient::Create(options).ok());
  options.max_attempts = 3;
  options.credentials.secret_access_key.clear();
  EXPECT_FALSE(HttpDynamoClient::Create(options).ok());
}

TEST(HttpDynamoClientTest, OptionsFromConfig) {
  DynamoClientConfig config;
  config.endpoint = "http://e:1";
  config.region = "r";
  config.credentials = {"A", "S", "T"};
  HttpDynamoClientOptions options = OptionsFromConfig(config);
  EXPECT_EQ(options.endpoint, "http://e:1");
  EXPECT_EQ(options.max_attempts, 10);
  EXPECT_EQ(options.credentials.session_token, "T");
  config.max_attempts = 3;
  EXPECT_EQ(OptionsFromConfig(config).max_attempts, 3);
}

}  // namespace
}  // namespace cruddur::dynamo
