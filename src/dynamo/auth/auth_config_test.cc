#include "dynamo/auth/auth_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace cruddur::dynamo::auth {
namespace {

constexpr std::string_view kConfig = R"({
  "AccountId": "546310198960",
  "Principals": [
    {"AccessKeyId": "AKIASTREAMHANDLER01", "SecretAccessKey": "stream-secret",
     "Role": "cruddur-messaging-stream-role", "SessionName": "cruddur-messaging-stream",
     "SessionToken": "token-1",
     "Policies": [{"PolicyName": "inline", "PolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "VisualEditor0", "Effect": "Allow",
          "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
          "Resource": ["arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages",
            "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/index/message-group-sk-index"]}]}}]},
    {"AccessKeyId": "admin_key", "SecretAccessKey": "admin-secret", "User": "admin",
     "Policies": [{"Version": "2012-10-17",
                   "Statement": {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}}]}
  ]
})";

std::string ParseError(std::string_view text) {
  Result<AuthConfig> config = AuthConfig::Parse(text);
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? "" : config.status().message();
}

TEST(AuthConfigTest, ParsesPrincipalsAndArns) {
  Result<AuthConfig> config = AuthConfig::Parse(kConfig);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->account_id(), "546310198960");
  EXPECT_EQ(config->size(), 2u);
  const Principal* stream = config->Find("AKIASTREAMHANDLER01");
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(stream->secret_access_key, "stream-secret");
  EXPECT_EQ(stream->session_token, "token-1");
  EXPECT_EQ(stream->arn,
            "arn:aws:sts::546310198960:assumed-role/cruddur-messaging-stream-role/"
            "cruddur-messaging-stream");
  ASSERT_EQ(stream->policies.size(), 1u);
  const Principal* admin = config->Find("admin_key");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->arn, "arn:aws:iam::546310198960:user/admin");
  EXPECT_TRUE(admin->session_token.empty());
  EXPECT_EQ(config->Find("nobody"), nullptr);
}

TEST(AuthConfigTest, AccountIdMayFollowPrincipalsAndDefaults) {
  Result<AuthConfig> config = AuthConfig::Parse(
      R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"u","Policies":[]}],
          "AccountId":"123456789012"})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->Find("k")->arn, "arn:aws:iam::123456789012:user/u");
  config = AuthConfig::Parse(R"({"Principals":[]})");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->account_id(), "000000000000");
}

TEST(AuthConfigTest, StrictErrors) {
  EXPECT_NE(ParseError("nope").find("not JSON"), std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[],"Users":[]})").find("unknown element 'Users'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"AccountId":"12","Principals":[]})").find("12 digits"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({})").find("Principals must be a list"), std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"u",
                          "Policies":[],"Secret":"x"}]})")
                .find("principal 1 (k): unknown element 'Secret'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s",
                          "Policies":[]}]})")
                .find("exactly one of User and Role"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"u",
                          "Role":"r","Policies":[]}]})")
                .find("exactly one of User and Role"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"u"}]})")
                .find("Policies is required"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k/x","SecretAccessKey":"s","User":"u",
                          "Policies":[]}]})")
                .find("AccessKeyId may hold only"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"","User":"u",
                          "Policies":[]}]})")
                .find("SecretAccessKey must be"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"a b",
                          "Policies":[]}]})")
                .find("not an IAM name"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[
      {"AccessKeyId":"k","SecretAccessKey":"s","User":"u","Policies":[]},
      {"AccessKeyId":"k","SecretAccessKey":"t","User":"v","Policies":[]}]})")
                .find("principal 2 (k): AccessKeyId is listed twice"),
            std::string::npos);
  // Policy errors name the principal and the policy.
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"u",
      "Policies":[{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}]}]})")
                .find("principal 1 (k), policy 1, statement 1: Effect must be"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Principals":[{"AccessKeyId":"k","SecretAccessKey":"s","User":"u",
      "Policies":[{"PolicyName":"p","PolicyDocument":{"Statement":[]},"Arn":"x"}]}]})")
                .find("unknown element 'Arn'"),
            std::string::npos);
}

TEST(AuthConfigTest, LoadAuthFile) {
  char path[] = "/tmp/cruddur-auth-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << kConfig;
  }
  Result<std::shared_ptr<const AuthConfig>> loaded = LoadAuthFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 2u);
  {
    std::ofstream out(path);
    out << R"({"Principals": 1})";
  }
  loaded = LoadAuthFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            std::string(path) + ": auth file: Principals must be a list");
  unlink(path);
  loaded = LoadAuthFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace cruddur::dynamo::auth
