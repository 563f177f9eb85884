#include "identity/dev_issuer.h"

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "identity/jwt.h"
#include "identity/sqlite_users_directory.h"

namespace cruddur::identity {
namespace {

constexpr std::int64_t kNow = 1'790'000'000;
constexpr char kIssuer[] = "http://127.0.0.1:4567/local-cognito";
constexpr char kClient[] = "cruddur-local";

DevIssuerOptions Options() { return DevIssuerOptions{kIssuer, kClient, 3600}; }

class DevIssuerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto generated = DevIssuer::Generate(Options());
    ASSERT_TRUE(generated.ok()) << generated.status().ToString();
    issuer_ = new DevIssuer(std::move(generated).value());
  }
  static void TearDownTestSuite() { delete issuer_; }

  static JwtVerifier VerifierFor(const DevIssuer& issuer) {
    auto jwks = Jwks::Parse(issuer.JwksJson());
    EXPECT_TRUE(jwks.ok()) << jwks.status().ToString();
    return JwtVerifier({kIssuer, kClient, 60}, std::move(jwks).value());
  }

  static DevIssuer* issuer_;
};
DevIssuer* DevIssuerTest::issuer_ = nullptr;

TEST_F(DevIssuerTest, TokensVerifyWithItsJwks) {
  auto token = issuer_->SignAccessToken("sub-andrew", "andrewbrown", kNow);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto claims = VerifierFor(*issuer_).Verify(*token, kNow + 10);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "sub-andrew");
  EXPECT_EQ(claims->username, "andrewbrown");
  EXPECT_EQ(claims->iss, kIssuer);
  EXPECT_EQ(claims->client_id, kClient);
  EXPECT_EQ(claims->token_use, "access");
  EXPECT_EQ(claims->scope, "aws.cognito.signin.user.admin");
  EXPECT_EQ(claims->iat, kNow);
  EXPECT_EQ(claims->auth_time, kNow);
  EXPECT_EQ(claims->exp, kNow + 3600);
  EXPECT_EQ(claims->jti.size(), 36u);

  // Past exp plus the verifier's leeway.
  auto late = VerifierFor(*issuer_).Verify(*token, kNow + 3600 + 60);
  EXPECT_FALSE(late.ok());
}

TEST_F(DevIssuerTest, TokenHasCognitoShape) {
  auto token = issuer_->SignAccessToken("sub-1", "londo", kNow);
  ASSERT_TRUE(token.ok());
  auto decoded = DecodeJwt(*token);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->kid, issuer_->kid());
  json::Document payload;
  ASSERT_TRUE(json::Parse(decoded->payload_json, &payload).ok());
  for (const char* claim : {"sub", "iss", "client_id", "origin_jti", "event_id", "token_use",
                            "scope", "auth_time", "exp", "iat", "jti", "username"}) {
    EXPECT_TRUE(payload.HasMember(claim)) << claim;
  }
  EXPECT_EQ(payload.MemberCount(), 12u);
  // Each token gets its own jti.
  auto other = DecodeJwt(*issuer_->SignAccessToken("sub-1", "londo", kNow));
  json::Document other_payload;
  ASSERT_TRUE(json::Parse(other->payload_json, &other_payload).ok());
  EXPECT_NE(std::string(payload["jti"].GetString()), other_payload["jti"].GetString());
}

TEST_F(DevIssuerTest, ClaimsAreEscapedAndBounded) {
  auto token = issuer_->SignAccessToken(R"(a"b\c)", "x\ny", kNow);
  ASSERT_TRUE(token.ok());
  auto claims = VerifierFor(*issuer_).Verify(*token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, R"(a"b\c)");
  EXPECT_EQ(claims->username, "x\ny");
  EXPECT_EQ(issuer_->SignAccessToken("", "u", kNow).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(issuer_->SignAccessToken("s", "", kNow).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(
      issuer_->SignAccessToken(std::string(kMaxDevClaimBytes + 1, 's'), "u", kNow).status().code(),
      ErrorCode::kValidation);
}

TEST_F(DevIssuerTest, KeySurvivesPemRoundTripWithSameKid) {
  auto pem = issuer_->PrivateKeyPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto reloaded = DevIssuer::FromPrivateKeyPem(Options(), *pem);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->kid(), issuer_->kid());
  EXPECT_EQ(reloaded->JwksJson(), issuer_->JwksJson());
  // A token from the reloaded issuer verifies against the original's JWKS.
  auto token = reloaded->SignAccessToken("sub-2", "bayko", kNow);
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(VerifierFor(*issuer_).Verify(*token, kNow).ok());
}

TEST_F(DevIssuerTest, OtherIssuersTokensAreRejected) {
  auto stranger = DevIssuer::Generate(Options());
  ASSERT_TRUE(stranger.ok());
  EXPECT_NE(stranger->kid(), issuer_->kid());
  auto token = stranger->SignAccessToken("sub-x", "londo", kNow);
  ASSERT_TRUE(token.ok());
  auto claims = VerifierFor(*issuer_).Verify(*token, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_NE(claims.status().message().find("unknown kid"), std::string::npos);

  auto other_client =
      DevIssuer::FromPrivateKeyPem({kIssuer, "another-client", 3600}, *issuer_->PrivateKeyPem());
  ASSERT_TRUE(other_client.ok());
  auto wrong = VerifierFor(*issuer_).Verify(*other_client->SignAccessToken("s", "u", kNow), kNow);
  EXPECT_FALSE(wrong.ok());
}

TEST(DevIssuerLoadTest, RejectsBadKeysAndOptions) {
  EXPECT_EQ(DevIssuer::FromPrivateKeyPem(Options(), "not a pem").status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(DevIssuer::Generate({"", kClient, 3600}).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(DevIssuer::Generate({kIssuer, "", 3600}).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(DevIssuer::Generate({kIssuer, kClient, 0}).status().code(), ErrorCode::kValidation);
}

// The seed's flow end to end, locally: seed users, give andrewbrown a Cognito-style sub, mint
// a token for him, verify it and resolve it to his uuid.
TEST_F(DevIssuerTest, TokenResolvesToSeededUser) {
  auto users = SqliteUsersDirectory::Open(":memory:");
  ASSERT_TRUE(users.ok());
  ASSERT_TRUE((*users)->Migrate().ok());
  ASSERT_TRUE((*users)->SeedDemoUsers().ok());
  ASSERT_TRUE((*users)->SetCognitoUserId("andrewbrown", "sub-andrew").ok());

  auto token = issuer_->SignAccessToken("sub-andrew", "andrewbrown", kNow);
  ASSERT_TRUE(token.ok());
  auto claims = VerifierFor(*issuer_).Verify(*token, kNow + 1);
  ASSERT_TRUE(claims.ok());
  auto uuid = (*users)->UuidFromCognitoUserId(claims->sub);
  ASSERT_TRUE(uuid.ok()) << uuid.status().ToString();
  EXPECT_EQ(*uuid, (*users)->UserByHandle("andrewbrown")->uuid);
}

}  // namespace
}  // namespace cruddur::identity
