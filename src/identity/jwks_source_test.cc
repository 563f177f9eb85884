#include "identity/jwks_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "identity/dev_issuer.h"
#include "net/http_server.h"

namespace cruddur::identity {
namespace {

constexpr std::int64_t kNow = 1'790'000'000;
constexpr char kIssuer[] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
constexpr char kClient[] = "client-1";

// Two signing keys, as a pool has around a rotation.
class JwksSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    old_key_ = new DevIssuer(*DevIssuer::Generate({kIssuer, kClient, 3600}));
    new_key_ = new DevIssuer(*DevIssuer::Generate({kIssuer, kClient, 3600}));
  }
  static void TearDownTestSuite() {
    delete old_key_;
    delete new_key_;
  }

  void SetUp() override {
    auto started = net::HttpServer::Start(
        {.host = "127.0.0.1", .port = 0, .threads = 1},
        [this](const net::HttpRequest& request, net::HttpResponse* response) {
          ++requests_;
          std::lock_guard lock(mu_);
          last_target_ = request.target;
          response->status = status_;
          response->body = body_;
        });
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    Serve(200, old_key_->JwksJson());
  }

  void Serve(int status, std::string body) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) +
           "/us-east-1_Test/.well-known/jwks.json";
  }
  RefreshingJwtVerifierOptions Options(std::int64_t min_refetch = 60) {
    return {{kIssuer, kClient, 60}, min_refetch};
  }

  static DevIssuer* old_key_;
  static DevIssuer* new_key_;
  std::unique_ptr<net::HttpServer> server_;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  std::string last_target_;
};
DevIssuer* JwksSourceTest::old_key_ = nullptr;
DevIssuer* JwksSourceTest::new_key_ = nullptr;

TEST(CognitoJwksUrlTest, IsThePoolsWellKnownUrl) {
  EXPECT_EQ(CognitoJwksUrl("ca-central-1", "ca-central-1_AbC"),
            "https://cognito-idp.ca-central-1.amazonaws.com/ca-central-1_AbC/.well-known/"
            "jwks.json");
}

TEST_F(JwksSourceTest, FetchesLazilyOnceAndVerifies) {
  RefreshingJwtVerifier verifier(Options(), HttpJwksFetcher(Url()));
  EXPECT_EQ(requests_, 0);
  auto token = old_key_->SignAccessToken("sub-1", "andrewbrown", kNow);
  auto claims = verifier.Verify(*token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "sub-1");
  EXPECT_EQ(requests_, 1);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(last_target_, "/us-east-1_Test/.well-known/jwks.json");
  }
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(verifier.Verify(*token, kNow + i).ok());
  EXPECT_EQ(requests_, 1);
}

TEST_F(JwksSourceTest, UnknownKidRefetchesRateLimited) {
  RefreshingJwtVerifier verifier(Options(60), HttpJwksFetcher(Url()));
  ASSERT_TRUE(verifier.Refresh(kNow).ok());
  EXPECT_EQ(requests_, 1);

  // The pool rotates: the server now serves the new key only.
  Serve(200, new_key_->JwksJson());
  auto rotated = new_key_->SignAccessToken("sub-2", "bayko", kNow);
  // Within the rate limit: rejected as unknown, no request.
  auto early = verifier.Verify(*rotated, kNow + 10);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kUnrecognizedClient);
  EXPECT_NE(early.status().message().find("unknown kid"), std::string::npos);
  EXPECT_EQ(requests_, 1);
  // Once the limit has passed the unknown kid triggers one fetch, and the token verifies.
  auto later = verifier.Verify(*rotated, kNow + 60);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(later->sub, "sub-2");
  EXPECT_EQ(requests_, 2);
  // A made-up kid right after does not fetch again, and neither does the old, dropped key.
  auto old = old_key_->SignAccessToken("sub-1", "andrewbrown", kNow);
  EXPECT_EQ(verifier.Verify(*old, kNow + 61).status().code(), ErrorCode::kUnrecognizedClient);
  EXPECT_EQ(requests_, 2);
}

TEST_F(JwksSourceTest, ConcurrentUnknownKidsFetchOnce) {
  RefreshingJwtVerifier verifier(Options(60), HttpJwksFetcher(Url()));
  auto token = old_key_->SignAccessToken("sub-1", "andrewbrown", kNow);
  std::vector<std::thread> threads;
  std::atomic<int> verified{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      if (verifier.Verify(*token, kNow).ok()) ++verified;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(verified, 8);
  EXPECT_EQ(requests_, 1);
}

TEST_F(JwksSourceTest, FetchErrorsAreStatusesAndTheOldSetStays) {
  RefreshingJwtVerifier verifier(Options(0), HttpJwksFetcher(Url()));
  Serve(500, "oops");
  auto token = old_key_->SignAccessToken("sub-1", "andrewbrown", kNow);
  auto failed = verifier.Verify(*token, kNow);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kIo);
  EXPECT_NE(failed.status().message().find("HTTP status 500"), std::string::npos)
      << failed.status().message();

  Serve(200, "{\"keys\": 1}");
  auto bad = verifier.Verify(*token, kNow);
  EXPECT_EQ(bad.status().code(), ErrorCode::kValidation) << bad.status().ToString();

  Serve(200, std::string(kMaxJwksBytes + 1, ' '));
  auto huge = verifier.Verify(*token, kNow);
  EXPECT_EQ(huge.status().code(), ErrorCode::kIo);
  EXPECT_NE(huge.status().message().find("larger than"), std::string::npos);

  Serve(200, old_key_->JwksJson());
  ASSERT_TRUE(verifier.Verify(*token, kNow).ok());
  // A failed refresh keeps the set in use.
  Serve(503, "");
  EXPECT_EQ(verifier.Refresh(kNow + 1).code(), ErrorCode::kIo);
  EXPECT_TRUE(verifier.Verify(*token, kNow + 1).ok());
}

TEST_F(JwksSourceTest, FailedFirstFetchIsRateLimitedToo) {
  RefreshingJwtVerifier verifier(Options(30), HttpJwksFetcher(Url()));
  Serve(404, "");
  auto token = old_key_->SignAccessToken("sub-1", "andrewbrown", kNow);
  EXPECT_EQ(verifier.Verify(*token, kNow).status().code(), ErrorCode::kIo);
  Serve(200, old_key_->JwksJson());
  // Within the limit: the last error again, no request.
  auto again = verifier.Verify(*token, kNow + 1);
  EXPECT_NE(again.status().message().find("HTTP status 404"), std::string::npos);
  EXPECT_EQ(requests_, 1);
  EXPECT_TRUE(verifier.Verify(*token, kNow + 30).ok());
  EXPECT_EQ(requests_, 2);
}

TEST(HttpJwksFetcherTest, UnreachableAndUnsupportedUrls) {
  auto refused = HttpJwksFetcher("http://127.0.0.1:1/jwks.json", 2000)();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kIo);
  EXPECT_NE(refused.status().message().find("127.0.0.1:1"), std::string::npos);
  auto file = HttpJwksFetcher("file:///etc/passwd")();
  EXPECT_EQ(file.status().code(), ErrorCode::kIo);
}

TEST_F(JwksSourceTest, FileSourceIsReadAgainOnUnknownKid) {
  std::string pattern = (std::filesystem::temp_directory_path() / "jwks_test_XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  std::filesystem::path path = std::filesystem::path(pattern) / "jwks.json";
  auto write = [&](const std::string& text) { std::ofstream(path) << text; };

  RefreshingJwtVerifier missing(Options(0), FileJwksFetcher((path.string())));
  auto token = old_key_->SignAccessToken("sub-1", "andrewbrown", kNow);
  EXPECT_EQ(missing.Verify(*token, kNow).status().code(), ErrorCode::kIo);

  write(old_key_->JwksJson());
  RefreshingJwtVerifier verifier(Options(0), FileJwksFetcher(path.string()));
  ASSERT_TRUE(verifier.Verify(*token, kNow).ok());
  write(new_key_->JwksJson());
  auto rotated = new_key_->SignAccessToken("sub-2", "bayko", kNow);
  EXPECT_TRUE(verifier.Verify(*rotated, kNow).ok());
  write(std::string(kMaxJwksBytes + 1, ' '));
  EXPECT_EQ(FileJwksFetcher(path.string())().status().code(), ErrorCode::kIo);
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace cruddur::identity
