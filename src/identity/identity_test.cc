#include "identity/identity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "identity/dev_issuer.h"
#include "identity/local_issuer.h"
#include "identity/postgres_test_util.h"

namespace cruddur::identity {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kNow = 1'790'000'000;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "identity_cfg_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    data_ = pattern;
  }
  void TearDown() override { fs::remove_all(data_); }
  fs::path data_;
};

TEST(IdentityConfigTest, ReadsTheSeedsVariables) {
  auto config = IdentityConfig::FromEnvironment(FakeEnv({
      {"AWS_COGNITO_USER_POOL_ID", "us-east-1_Pool"},
      {"AWS_COGNITO_USER_POOL_CLIENT_ID", "client-9"},
      {"AWS_DEFAULT_REGION", "us-east-1"},
      {"AWS_REGION", "eu-west-1"},
      {"CONNECTION_URL", "postgresql://postgres:password@db:5432/cruddur"},
      {"CRUDDUR_JWKS_URL", "http://127.0.0.1:9/jwks.json"},
      {"CRUDDUR_JWKS_FILE", "/tmp/jwks.json"},
      {"CRUDDUR_JWKS_MIN_REFETCH_SECONDS", "5"},
  }));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->user_pool_id, "us-east-1_Pool");
  EXPECT_EQ(config->client_id, "client-9");
  EXPECT_EQ(config->region, "us-east-1");
  EXPECT_EQ(config->connection_url, "postgresql://postgres:password@db:5432/cruddur");
  EXPECT_EQ(config->jwks_url, "http://127.0.0.1:9/jwks.json");
  EXPECT_EQ(config->jwks_file, "/tmp/jwks.json");
  EXPECT_EQ(config->jwks_min_refetch_seconds, 5);
  EXPECT_TRUE(config->UsesCognito());
  EXPECT_TRUE(config->UsesPostgres());

  auto fallback = IdentityConfig::FromEnvironment(FakeEnv({{"AWS_REGION", "eu-west-1"}}));
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->region, "eu-west-1");
  EXPECT_FALSE(fallback->UsesCognito());
  EXPECT_FALSE(fallback->UsesPostgres());
  EXPECT_EQ(fallback->jwks_min_refetch_seconds, 60);
  EXPECT_EQ(fallback->data_dir, "./data");

  for (const char* bad : {"-1", "x", "5s", "99999999999999999999"}) {
    EXPECT_EQ(IdentityConfig::FromEnvironment(FakeEnv({{"CRUDDUR_JWKS_MIN_REFETCH_SECONDS", bad}}))
                  .status()
                  .code(),
              ErrorCode::kValidation)
        << bad;
  }
}

TEST_F(IdentityTest, SqliteInTheDataFolderByDefault) {
  IdentityConfig config;
  config.data_dir = (data_ / "nested" / "data").string();
  auto users = OpenUsersDirectory(config);
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_TRUE((*users)->Migrate().ok());
  EXPECT_TRUE(fs::exists(data_ / "nested" / "data" / "users.sqlite3"));
}

TEST_F(IdentityTest, ConnectionUrlMustBePostgres) {
  IdentityConfig config;
  config.data_dir = data_.string();
  config.connection_url = "mysql://db/cruddur";
  EXPECT_EQ(OpenUsersDirectory(config).status().code(), ErrorCode::kValidation);
  config.connection_url = "postgres://127.0.0.1:1/none";
  EXPECT_EQ(OpenUsersDirectory(config).status().code(), ErrorCode::kIo);
  EXPECT_FALSE(fs::exists(data_ / "users.sqlite3"));
}

TEST_F(IdentityTest, PostgresWhenConnectionUrlIsSet) {
  std::string server = TestPostgresUrl();
  if (server.empty()) GTEST_SKIP() << "CRUDDUR_TEST_POSTGRES_URL is not set";
  TestSchema schema(server);
  ASSERT_TRUE(schema.ok());
  IdentityConfig config;
  config.data_dir = data_.string();
  config.connection_url = schema.url();
  auto users = OpenUsersDirectory(config);
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_TRUE((*users)->Migrate().ok());
  ASSERT_TRUE((*users)->SeedDemoUsers().ok());
  EXPECT_TRUE(schema.Exec("SELECT 1 FROM users WHERE handle = 'bayko'"));
  EXPECT_FALSE(fs::exists(data_ / "users.sqlite3"));
}

TEST_F(IdentityTest, WithoutAPoolOnlyLocalTokensAreTrusted) {
  IdentityConfig config;
  config.data_dir = data_.string();
  auto verifier = MakeAccessTokenVerifier(config);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  auto local = LocalIssuer::Open(data_);
  ASSERT_TRUE(local.ok());
  auto token = local->issuer().SignAccessToken("sub-1", "andrewbrown", kNow);
  auto claims = (*verifier)->Verify(*token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "sub-1");

  // Same key, but a Cognito issuer: not the local pool.
  auto pem = local->issuer().PrivateKeyPem();
  auto impostor = DevIssuer::FromPrivateKeyPem(
      {CognitoIssuer("us-east-1", "us-east-1_Pool"), kLocalClientId, 3600}, *pem);
  EXPECT_FALSE((*verifier)->Verify(*impostor->SignAccessToken("s", "u", kNow), kNow).ok());
}

TEST_F(IdentityTest, WithAPoolLocalTokensAreNotTrusted) {
  auto local = LocalIssuer::Open(data_);
  ASSERT_TRUE(local.ok());
  // The pool's JWKS from a file: a key of the pool's own, not the local one.
  auto pool_key =
      DevIssuer::Generate({CognitoIssuer("us-east-1", "us-east-1_Pool"), "client-9", 3600});
  ASSERT_TRUE(pool_key.ok());
  fs::path jwks = data_ / "pool-jwks.json";
  std::ofstream(jwks) << pool_key->JwksJson();

  IdentityConfig config;
  config.data_dir = data_.string();
  config.user_pool_id = "us-east-1_Pool";
  config.client_id = "client-9";
  config.region = "us-east-1";
  config.jwks_file = jwks.string();
  auto verifier = MakeAccessTokenVerifier(config);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  auto real = (*verifier)->Verify(*pool_key->SignAccessToken("sub-9", "londo", kNow), kNow);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_EQ(real->sub, "sub-9");
  auto local_token = local->issuer().SignAccessToken("sub-1", "andrewbrown", kNow);
  EXPECT_EQ((*verifier)->Verify(*local_token, kNow).status().code(),
            ErrorCode::kUnrecognizedClient);

  config.region.clear();
  EXPECT_EQ(MakeAccessTokenVerifier(config).status().code(), ErrorCode::kValidation);
  config.region = "us-east-1";
  config.client_id.clear();
  EXPECT_EQ(MakeAccessTokenVerifier(config).status().code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace cruddur::identity
