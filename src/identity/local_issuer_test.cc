#include "identity/local_issuer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "identity/sqlite_users_directory.h"

namespace cruddur::identity {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kNow = 1'790'000'000;

class LocalIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "local_issuer_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    data_ = pattern;
    auto users = SqliteUsersDirectory::Open(":memory:");
    ASSERT_TRUE(users.ok());
    users_ = std::move(users).value();
    ASSERT_TRUE(users_->Migrate().ok());
    ASSERT_TRUE(users_->SeedDemoUsers().ok());
  }
  void TearDown() override { fs::remove_all(data_); }

  LocalIssuer OpenOrDie(std::int64_t lifetime = 3600) {
    auto issuer = LocalIssuer::Open(data_, lifetime);
    EXPECT_TRUE(issuer.ok()) << issuer.status().ToString();
    return std::move(issuer).value();
  }
  JwtVerifier VerifierFor(const LocalIssuer& issuer) {
    return JwtVerifier(LocalIssuer::VerifierOptions(), *Jwks::Parse(issuer.issuer().JwksJson()));
  }

  fs::path data_;
  std::unique_ptr<SqliteUsersDirectory> users_;
};

TEST_F(LocalIssuerTest, KeyIsCreatedPrivateOnceAndKept) {
  LocalIssuer first = OpenOrDie();
  fs::path key = data_ / "local-cognito" / "private-key.pem";
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((data_ / "local-cognito").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  LocalIssuer second = OpenOrDie();
  EXPECT_EQ(first.issuer().kid(), second.issuer().kid());
  // The published JWKS is the key's public half.
  std::ifstream in(first.jwks_path());
  std::string published((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(published, first.issuer().JwksJson());
  EXPECT_EQ(published.find("\"d\""), std::string::npos);
  // A stale or deleted jwks.json is written again.
  fs::remove(first.jwks_path());
  OpenOrDie();
  EXPECT_TRUE(fs::exists(first.jwks_path()));
}

TEST_F(LocalIssuerTest, ConcurrentFirstOpensAgreeOnOneKey) {
  std::vector<std::string> kids(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto issuer = LocalIssuer::Open(data_);
      if (issuer.ok()) kids[t] = issuer->issuer().kid();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(kids[0].empty());
  for (const std::string& kid : kids) EXPECT_EQ(kid, kids[0]);
  EXPECT_EQ(
      std::distance(fs::directory_iterator(data_ / "local-cognito"), fs::directory_iterator()),
      2);  // private-key.pem and jwks.json, no temporary files left
}

TEST_F(LocalIssuerTest, CorruptKeyIsAnError) {
  fs::create_directories(data_ / "local-cognito");
  std::ofstream(data_ / "local-cognito" / "private-key.pem") << "not a key";
  auto issuer = LocalIssuer::Open(data_);
  ASSERT_FALSE(issuer.ok());
  EXPECT_EQ(issuer.status().code(), ErrorCode::kValidation);
  EXPECT_NE(issuer.status().message().find("private-key.pem"), std::string::npos);
}

TEST_F(LocalIssuerTest, SubsAreStableAndStoredLikeListUsers) {
  LocalIssuer issuer = OpenOrDie();
  auto andrew = issuer.SubFor("andrewbrown");
  ASSERT_TRUE(andrew.ok()) << andrew.status().ToString();
  auto bayko = issuer.SubFor("bayko");
  ASSERT_TRUE(bayko.ok());
  EXPECT_NE(*andrew, *bayko);
  EXPECT_EQ(*OpenOrDie().SubFor("andrewbrown"), *andrew);
  EXPECT_EQ(issuer.SubFor("").status().code(), ErrorCode::kValidation);

  auto listed = issuer.ListUsers();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].preferred_username, "andrewbrown");
  EXPECT_EQ((*listed)[0].sub, *andrew);

  std::ifstream in(data_ / "local-cognito" / "users.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json::Document doc;
  ASSERT_TRUE(json::Parse(text, &doc).ok());
  const json::Value& user = doc["Users"][0];
  EXPECT_STREQ(user["Username"].GetString(), "andrewbrown");
  EXPECT_STREQ(user["Attributes"][0]["Name"].GetString(), "sub");
  EXPECT_EQ(user["Attributes"][0]["Value"].GetString(), *andrew);
  EXPECT_STREQ(user["Attributes"][1]["Name"].GetString(), "preferred_username");
}

TEST_F(LocalIssuerTest, ConcurrentSubForKeepsEveryUser) {
  LocalIssuer issuer = OpenOrDie();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(issuer.SubFor("u" + std::to_string(t) + "_" + std::to_string(i)).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto listed = issuer.ListUsers();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 40u);
}

TEST_F(LocalIssuerTest, AssignCognitoUserIdsFillsOnlyMissingOnes) {
  LocalIssuer issuer = OpenOrDie();
  ASSERT_TRUE(users_->SetCognitoUserId("londo", "real-cognito-sub").ok());
  auto assigned = AssignLocalCognitoUserIds(*users_, issuer);
  ASSERT_TRUE(assigned.ok()) << assigned.status().ToString();
  ASSERT_EQ(assigned->size(), 3u);
  EXPECT_EQ((*assigned)[0].handle, "altbrown");
  for (const AssignedCognitoUserId& one : *assigned) {
    EXPECT_EQ(*users_->UuidFromCognitoUserId(one.sub), users_->UserByHandle(one.handle)->uuid);
    EXPECT_EQ(*issuer.SubFor(one.handle), one.sub);
  }
  EXPECT_EQ(users_->UserByHandle("londo")->cognito_user_id, "real-cognito-sub");
  auto again = AssignLocalCognitoUserIds(*users_, issuer);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

// The seed's flow end to end: seed, mint a token for andrewbrown, resolve it to his uuid.
TEST_F(LocalIssuerTest, MintedTokenResolvesToTheUser) {
  LocalIssuer issuer = OpenOrDie(600);
  auto token = MintLocalAccessToken(*users_, issuer, "andrewbrown", kNow);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto claims = VerifierFor(issuer).Verify(*token, kNow + 1);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->iss, kLocalIssuer);
  EXPECT_EQ(claims->client_id, kLocalClientId);
  EXPECT_EQ(claims->username, "andrewbrown");
  EXPECT_EQ(claims->exp, kNow + 600);
  EXPECT_EQ(*users_->UuidFromCognitoUserId(claims->sub), users_->UserByHandle("andrewbrown")->uuid);
  // A second token carries the same sub.
  auto second = MintLocalAccessToken(*users_, issuer, "andrewbrown", kNow);
  EXPECT_EQ(VerifierFor(issuer).Verify(*second, kNow)->sub, claims->sub);
  EXPECT_EQ(MintLocalAccessToken(*users_, issuer, "nobody", kNow).status().code(),
            ErrorCode::kResourceNotFound);
}

}  // namespace
}  // namespace cruddur::identity
