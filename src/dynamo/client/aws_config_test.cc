#include "dynamo/client/aws_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace cruddur::dynamo {
namespace {

using Vars = std::map<std::string, std::string, std::less<>>;

class AwsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cruddur-aws-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }

  // Files under the temporary directory, found through the variables that name them.
  Vars WithFiles(Vars vars) {
    vars.emplace("AWS_CONFIG_FILE", dir_ + "/config");
    vars.emplace("AWS_SHARED_CREDENTIALS_FILE", dir_ + "/credentials");
    return vars;
  }

  std::string dir_;
};

TEST_F(AwsConfigTest, EnvironmentOnly) {
  auto config = LoadDynamoClientConfig(MapEnvironment(WithFiles({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", "SECRET"},
      {"AWS_SESSION_TOKEN", "TOKEN"},
      {"AWS_REGION", "eu-west-1"},
      {"AWS_DEFAULT_REGION", "us-west-2"},
      {"AWS_ENDPOINT_URL", "http://global:1"},
      {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"},
  })));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->credentials.access_key_id, "AKID");
  EXPECT_EQ(config->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(config->credentials.session_token, "TOKEN");
  EXPECT_EQ(config->credentials_source, "environment");
  EXPECT_EQ(config->region, "eu-west-1");
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:8000");
  EXPECT_EQ(config->endpoint_source, "AWS_ENDPOINT_URL_DYNAMODB");
  EXPECT_EQ(config->profile, "default");
  EXPECT_EQ(config->max_attempts, 0);
}

TEST_F(AwsConfigTest, GlobalEndpointAndDefaultRegion) {
  auto config = LoadDynamoClientConfig(MapEnvironment(WithFiles({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", "SECRET"},
      {"AWS_DEFAULT_REGION", "us-west-2"},
      {"AWS_ENDPOINT_URL", "http://global:1"},
  })));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->region, "us-west-2");
  EXPECT_EQ(config->endpoint, "http://global:1");
}

TEST_F(AwsConfigTest, RegionDerivedEndpoint) {
  auto config = LoadDynamoClientConfig(MapEnvironment(WithFiles(
      {{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_REGION", "ap-south-1"}})));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->endpoint, "https://dynamodb.ap-south-1.amazonaws.com");
  EXPECT_EQ(RegionalDynamoEndpoint("cn-north-1"), "https://dynamodb.cn-north-1.amazonaws.com.cn");
}

TEST_F(AwsConfigTest, NamedProfileFromBothFiles) {
  Write("credentials",
        "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = DEFAULTSECRET\n"
        "\n# a comment\n[dev]\naws_access_key_id=DEVKEY\naws_secret_access_key = DEVSECRET\n"
        "aws_session_token = DEVTOKEN\n");
  Write("config",
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-central-1\n"
        "; another comment\naws_access_key_id = IGNORED\naws_secret_access_key = IGNORED\n"
        "endpoint_url = http://localhost:4566\nmax_attempts = 4\n");
  auto config = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_PROFILE", "dev"}})));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->profile, "dev");
  // The credentials file wins over keys in the config file.
  EXPECT_EQ(config->credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(config->credentials.secret_access_key, "DEVSECRET");
  EXPECT_EQ(config->credentials.session_token, "DEVTOKEN");
  EXPECT_EQ(config->credentials_source, "profile dev in " + dir_ + "/credentials");
  EXPECT_EQ(config->region, "eu-central-1");
  EXPECT_EQ(config->endpoint, "http://localhost:4566");
  EXPECT_EQ(config->max_attempts, 4);

  auto by_default = LoadDynamoClientConfig(MapEnvironment(WithFiles({})));
  ASSERT_TRUE(by_default.ok()) << by_default.status().ToString();
  EXPECT_EQ(by_default->credentials.access_key_id, "DEFAULTKEY");
  EXPECT_EQ(by_default->region, "us-east-1");
  EXPECT_EQ(by_default->endpoint, "https://dynamodb.us-east-1.amazonaws.com");
}

TEST_F(AwsConfigTest, KeysInTheConfigFileAndEnvironmentPrecedence) {
  Write("config",
        "[profile p]\naws_access_key_id = CFGKEY\naws_secret_access_key = CFGSECRET\n"
        "region = eu-west-3\n");
  auto config = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_PROFILE", "p"}})));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->credentials.access_key_id, "CFGKEY");

  auto env_wins = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_PROFILE", "p"},
                                                                   {"AWS_ACCESS_KEY_ID", "E"},
                                                                   {"AWS_SECRET_ACCESS_KEY", "S"},
                                                                   {"AWS_REGION", "us-east-2"}})));
  ASSERT_TRUE(env_wins.ok());
  EXPECT_EQ(env_wins->credentials.access_key_id, "E");
  EXPECT_EQ(env_wins->region, "us-east-2");
}

TEST_F(AwsConfigTest, ServicesSectionEndpointAndIgnoreSwitch) {
  Write("config",
        "[profile s]\nregion = us-east-1\nservices = local\nendpoint_url = http://global:2\n"
        "aws_access_key_id = K\naws_secret_access_key = S\n\n"
        "[services local]\ns3 =\n  endpoint_url = http://s3:1\n"
        "dynamodb =\n  endpoint_url = http://ddb:8000\n");
  auto config = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_PROFILE", "s"}})));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->endpoint, "http://ddb:8000");

  // The global environment variable outranks the services section.
  auto env = LoadDynamoClientConfig(
      MapEnvironment(WithFiles({{"AWS_PROFILE", "s"}, {"AWS_ENDPOINT_URL", "http://env:3"}})));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->endpoint, "http://env:3");

  auto ignored = LoadDynamoClientConfig(
      MapEnvironment(WithFiles({{"AWS_PROFILE", "s"},
                                {"AWS_ENDPOINT_URL_DYNAMODB", "http://env:4"},
                                {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}})));
  ASSERT_TRUE(ignored.ok());
  EXPECT_EQ(ignored->endpoint, "https://dynamodb.us-east-1.amazonaws.com");
}

TEST_F(AwsConfigTest, DefaultFilesUnderHome) {
  Write("home/.aws/credentials", "[default]\naws_access_key_id=H\naws_secret_access_key=HS\n");
  Write("home/.aws/config", "[default]\nregion=sa-east-1\n");
  auto config = LoadDynamoClientConfig(MapEnvironment({{"HOME", dir_ + "/home"}}));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->credentials.access_key_id, "H");
  EXPECT_EQ(config->region, "sa-east-1");

  auto tilde = LoadDynamoClientConfig(
      MapEnvironment({{"HOME", dir_ + "/home"},
                      {"AWS_CONFIG_FILE", "~/.aws/config"},
                      {"AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"}}));
  ASSERT_TRUE(tilde.ok()) << tilde.status().ToString();
  EXPECT_EQ(tilde->region, "sa-east-1");
}

TEST_F(AwsConfigTest, Errors) {
  auto missing_profile =
      LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_PROFILE", "nope"},
                                                       {"AWS_ACCESS_KEY_ID", "A"},
                                                       {"AWS_SECRET_ACCESS_KEY", "S"},
                                                       {"AWS_REGION", "us-east-1"}})));
  EXPECT_EQ(missing_profile.status().code(), ErrorCode::kValidation);
  EXPECT_NE(missing_profile.status().message().find("(nope) could not be found"),
            std::string::npos);

  auto half = LoadDynamoClientConfig(
      MapEnvironment(WithFiles({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_REGION", "us-east-1"}})));
  EXPECT_NE(half.status().message().find("only one of AWS_ACCESS_KEY_ID"), std::string::npos);

  auto none = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_REGION", "us-east-1"}})));
  EXPECT_NE(none.status().message().find("Unable to locate credentials"), std::string::npos);

  auto no_region = LoadDynamoClientConfig(
      MapEnvironment(WithFiles({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}})));
  EXPECT_NE(no_region.status().message().find("You must specify a region"), std::string::npos);

  Write("config", "[profile sso]\nsso_session = corp\nregion = us-east-1\n");
  auto sso = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_PROFILE", "sso"}})));
  EXPECT_NE(sso.status().message().find("sso_session"), std::string::npos);

  Write("credentials", "[half]\naws_access_key_id = A\n");
  auto half_file = LoadDynamoClientConfig(
      MapEnvironment(WithFiles({{"AWS_PROFILE", "half"}, {"AWS_REGION", "us-east-1"}})));
  EXPECT_NE(half_file.status().message().find("only one of aws_access_key_id"), std::string::npos);

  auto attempts = LoadDynamoClientConfig(MapEnvironment(WithFiles({{"AWS_ACCESS_KEY_ID", "A"},
                                                                   {"AWS_SECRET_ACCESS_KEY", "S"},
                                                                   {"AWS_REGION", "us-east-1"},
                                                                   {"AWS_MAX_ATTEMPTS", "0"}})));
  EXPECT_NE(attempts.status().message().find("AWS_MAX_ATTEMPTS must be a positive integer"),
            std::string::npos);
}

TEST(ParseIniTest, SyntaxAndErrors) {
  auto ini = ParseIni(
      "# top comment\n[a]\nK = v=1\nx: y\nmulti = first\n  second\n[ b c ]\nnested =\n"
      "  inner = 1\n  Other=2\n",
      "f");
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  EXPECT_EQ((*ini)["a"]["k"], "v=1");
  EXPECT_EQ((*ini)["a"]["x"], "y");
  EXPECT_EQ((*ini)["a"]["multi"], "first\nsecond");
  EXPECT_EQ((*ini)["b c"]["nested.inner"], "1");
  EXPECT_EQ((*ini)["b c"]["nested.other"], "2");

  auto before = ParseIni("k = v\n", "f");
  EXPECT_EQ(before.status().message(), "f:1: a setting before any [section] header");
  auto no_value = ParseIni("[a]\n\njunk\n", "f");
  EXPECT_EQ(no_value.status().message(), "f:3: expected 'key = value'");
  auto header = ParseIni("[a\n", "f");
  EXPECT_EQ(header.status().code(), ErrorCode::kValidation);
}

}  // namespace
}  // namespace cruddur::dynamo
