// ListUsers against a real HTTP server standing in for Cognito (it verifies every request's
// SigV4 signature and serves recorded pages), and the sync into real users directories.
#include "identity/cognito_users.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/json.h"
#include "identity/postgres_test_util.h"
#include "identity/postgres_users_directory.h"
#include "identity/sqlite_users_directory.h"
#include "identity/uuid.h"
#include "net/http_server.h"

namespace cruddur::identity {
namespace {

constexpr char kPool[] = "us-east-1_Cruddur1";
constexpr char kAccessKey[] = "AKIDCOGNITOTEST";
constexpr char kSecret[] = "cognito-test-secret";

// Two pages of a recorded ListUsers answer: andrewbrown and bayko, then londo and a user who
// never set preferred_username (signed up through the hosted UI).
constexpr char kPage1[] = R"({"PaginationToken":"page-2-token","Users":[
  {"Username":"3a5c7e8e-1111-4b2a-9d1e-000000000001","Attributes":[
     {"Name":"sub","Value":"3a5c7e8e-1111-4b2a-9d1e-000000000001"},
     {"Name":"email_verified","Value":"true"},
     {"Name":"name","Value":"Andrew Brown"},
     {"Name":"preferred_username","Value":"andrewbrown"},
     {"Name":"email","Value":"andrew@exampro.co"}],
   "UserCreateDate":1.679942563524E9,"UserLastModifiedDate":1.679942582613E9,
   "Enabled":true,"UserStatus":"CONFIRMED"},
  {"Username":"bayko","Attributes":[
     {"Name":"sub","Value":"3a5c7e8e-2222-4b2a-9d1e-000000000002"},
     {"Name":"preferred_username","Value":"bayko"}],
   "Enabled":false,"UserStatus":"FORCE_CHANGE_PASSWORD"}]})";
constexpr char kPage2[] = R"({"Users":[
  {"Username":"londo","Attributes":[
     {"Name":"sub","Value":"3a5c7e8e-3333-4b2a-9d1e-000000000003"},
     {"Name":"preferred_username","Value":"londo"},
     {"Name":"email","Value":"lmollari@centari.com"}],
   "Enabled":true,"UserStatus":"CONFIRMED"},
  {"Username":"hosted-ui-user","Attributes":[
     {"Name":"sub","Value":"3a5c7e8e-4444-4b2a-9d1e-000000000004"},
     {"Name":"email","Value":"someone@example.com"}],
   "Enabled":true,"UserStatus":"CONFIRMED"}]})";

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A stand-in for cognito-idp.us-east-1.amazonaws.com.
class FakeCognito {
 public:
  enum class Mode { kPages, kNoSuchPool, kMalformed, kHtmlError, kEndlessPages };

  FakeCognito() {
    auto started =
        net::HttpServer::Start({.host = "127.0.0.1", .port = 0, .threads = 1},
                               [this](const net::HttpRequest& request,
                                      net::HttpResponse* response) { Handle(request, response); });
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (started.ok()) server_ = std::move(started).value();
  }

  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void set_mode(Mode mode) { mode_ = mode; }
  int requests() const { return requests_; }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> rejections() const {
    std::lock_guard lock(mu_);
    return rejections_;
  }

 private:
  void Answer(net::HttpResponse* response, int status, std::string body) {
    response->status = status;
    response->headers.push_back({"Content-Type", "application/x-amz-json-1.1"});
    response->body = std::move(body);
  }

  void Handle(const net::HttpRequest& request, net::HttpResponse* response) {
    ++requests_;
    aws::SigV4 verifier;
    Result<aws::VerifiedRequest> verified = verifier.Verify(
        {request.method, request.target, request.headers, request.body},
        [](std::string_view key) -> Result<std::string> {
          if (key == kAccessKey) return std::string(kSecret);
          return Status(ErrorCode::kUnrecognizedClient, "unknown access key");
        },
        {.service = "cognito-idp", .region = "us-east-1", .now_unix_seconds = Now()});
    const std::string* target = request.Header("x-amz-target");
    const std::string* type = request.Header("content-type");
    std::string problem;
    if (!verified.ok()) problem = verified.status().ToString();
    if (request.method != "POST" || request.target != "/") problem += " not POST /";
    if (target == nullptr || *target != "AWSCognitoIdentityProviderService.ListUsers") {
      problem += " wrong X-Amz-Target";
    }
    if (type == nullptr || *type != "application/x-amz-json-1.1") problem += " wrong Content-Type";
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(request.body);
      if (!problem.empty()) rejections_.push_back(problem);
    }
    if (!problem.empty()) {
      Answer(response, 400,
             R"({"__type":"InvalidSignatureException","message":"The request signature we )"
             R"(calculated does not match the signature you provided."})");
      return;
    }
    json::Document doc;
    if (!json::Parse(request.body, &doc).ok() || !doc.IsObject()) {
      Answer(response, 400, R"({"__type":"SerializationException"})");
      return;
    }
    switch (mode_.load()) {
      case Mode::kNoSuchPool:
        Answer(response, 400,
               R"({"__type":"ResourceNotFoundException",)"
               R"("message":"User pool us-east-1_x does not exist."})");
        return;
      case Mode::kMalformed:
        Answer(response, 200, R"({"Users":[{"Attributes":[]}]})");
        return;
      case Mode::kHtmlError:
        Answer(response, 502, "<html>Bad Gateway</html>");
        return;
      case Mode::kEndlessPages:
        Answer(response, 200, R"({"Users":[],"PaginationToken":"again"})");
        return;
      case Mode::kPages:
        break;
    }
    auto token = doc.FindMember("PaginationToken");
    if (token == doc.MemberEnd()) {
      Answer(response, 200, kPage1);
    } else if (token->value.IsString() && std::string(token->value.GetString()) == "page-2-token") {
      Answer(response, 200, kPage2);
    } else {
      Answer(response, 400,
             R"({"__type":"InvalidParameterException","message":"Invalid pagination token"})");
    }
  }

  std::unique_ptr<net::HttpServer> server_;
  std::atomic<Mode> mode_{Mode::kPages};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> rejections_;
};

class CognitoListUsersTest : public ::testing::Test {
 protected:
  CognitoClientOptions Options() const {
    CognitoClientOptions options;
    options.endpoint = cognito_.Endpoint();
    options.region = "us-east-1";
    options.credentials = {kAccessKey, kSecret, ""};
    return options;
  }
  FakeCognito cognito_;
};

TEST_F(CognitoListUsersTest, ReadsEveryPageWithSignedRequests) {
  auto users = ListCognitoUsers(Options(), kPool);
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_TRUE(cognito_.rejections().empty()) << cognito_.rejections()[0];
  ASSERT_EQ(users->size(), 4u);
  EXPECT_EQ((*users)[0], (CognitoUser{"3a5c7e8e-1111-4b2a-9d1e-000000000001",
                                      "3a5c7e8e-1111-4b2a-9d1e-000000000001", "andrewbrown",
                                      "andrew@exampro.co", "Andrew Brown", "CONFIRMED", true}));
  EXPECT_EQ((*users)[1].preferred_username, "bayko");
  EXPECT_FALSE((*users)[1].enabled);
  EXPECT_EQ((*users)[1].user_status, "FORCE_CHANGE_PASSWORD");
  EXPECT_EQ((*users)[2].sub, "3a5c7e8e-3333-4b2a-9d1e-000000000003");
  EXPECT_EQ((*users)[3].preferred_username, "");

  std::vector<std::string> bodies = cognito_.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0], R"({"UserPoolId":"us-east-1_Cruddur1","Limit":60})");
  EXPECT_EQ(bodies[1],
            R"({"UserPoolId":"us-east-1_Cruddur1","Limit":60,"PaginationToken":"page-2-token"})");
}

TEST_F(CognitoListUsersTest, SessionTokenIsSignedToo) {
  CognitoClientOptions options = Options();
  options.credentials.session_token = "FwoGZXIvYXdzEBYaDH";
  auto users = ListCognitoUsers(options, kPool);
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(users->size(), 4u);
}

TEST_F(CognitoListUsersTest, WrongSecretIsReportedWithAwsErrorType) {
  CognitoClientOptions options = Options();
  options.credentials.secret_access_key = "not-the-secret";
  auto users = ListCognitoUsers(options, kPool);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().code(), ErrorCode::kUnrecognizedClient);
  EXPECT_NE(users.status().message().find("InvalidSignatureException: The request signature"),
            std::string::npos)
      << users.status().message();
}

TEST_F(CognitoListUsersTest, UnknownPoolIsResourceNotFoundWithAwsMessage) {
  cognito_.set_mode(FakeCognito::Mode::kNoSuchPool);
  auto users = ListCognitoUsers(Options(), "us-east-1_x");
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(users.status().message(),
            "Cognito ListUsers: ResourceNotFoundException: User pool us-east-1_x does not exist.");
}

TEST_F(CognitoListUsersTest, MalformedAnswerIsIo) {
  cognito_.set_mode(FakeCognito::Mode::kMalformed);
  auto users = ListCognitoUsers(Options(), kPool);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().code(), ErrorCode::kIo);
  EXPECT_NE(users.status().message().find("Users[0] has no string Username"), std::string::npos)
      << users.status().message();
}

TEST_F(CognitoListUsersTest, NonAwsErrorNamesTheHttpStatus) {
  cognito_.set_mode(FakeCognito::Mode::kHtmlError);
  auto users = ListCognitoUsers(Options(), kPool);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().code(), ErrorCode::kIo);
  EXPECT_EQ(users.status().message(), "Cognito ListUsers: HTTP status 502");
}

TEST_F(CognitoListUsersTest, PagesAreBounded) {
  cognito_.set_mode(FakeCognito::Mode::kEndlessPages);
  CognitoClientOptions options = Options();
  options.max_pages = 3;
  auto users = ListCognitoUsers(options, kPool);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().code(), ErrorCode::kIo);
  EXPECT_NE(users.status().message().find("more than 3 pages"), std::string::npos);
  EXPECT_EQ(cognito_.requests(), 3);
}

TEST(CognitoListUsersOptionsTest, BadOptionsAreRefusedBeforeAnyRequest) {
  CognitoClientOptions options;
  options.endpoint = "ftp://cognito.example";
  options.region = "us-east-1";
  options.credentials = {kAccessKey, kSecret, ""};
  EXPECT_EQ(ListCognitoUsers(options, kPool).status().code(), ErrorCode::kValidation);
  options.endpoint = "http://127.0.0.1:1/some/path";
  EXPECT_EQ(ListCognitoUsers(options, kPool).status().code(), ErrorCode::kValidation);
  options.endpoint = "http://127.0.0.1:1";
  EXPECT_EQ(ListCognitoUsers(options, "").status().code(), ErrorCode::kValidation);
  options.credentials = {};
  EXPECT_EQ(ListCognitoUsers(options, kPool).status().code(), ErrorCode::kValidation);
}

TEST(CognitoListUsersOptionsTest, UnreachableEndpointIsIo) {
  CognitoClientOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.region = "us-east-1";
  options.credentials = {kAccessKey, kSecret, ""};
  auto users = ListCognitoUsers(options, kPool);
  ASSERT_FALSE(users.ok());
  EXPECT_EQ(users.status().code(), ErrorCode::kIo);
}

TEST(CognitoClientOptionsTest, FromEnvironment) {
  auto regional = CognitoClientOptionsFromEnvironment(dynamo::MapEnvironment({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", "secret"},
      {"AWS_DEFAULT_REGION", "ca-central-1"},
      {"AWS_ENDPOINT_URL", "http://dynamodb-local:8000"},
      {"HOME", "/nonexistent"},
  }));
  ASSERT_TRUE(regional.ok()) << regional.status().ToString();
  EXPECT_EQ(regional->endpoint, "https://cognito-idp.ca-central-1.amazonaws.com");
  EXPECT_EQ(regional->region, "ca-central-1");
  EXPECT_EQ(regional->credentials.access_key_id, "AKID");

  auto overridden = CognitoClientOptionsFromEnvironment(dynamo::MapEnvironment({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", "secret"},
      {"AWS_REGION", "us-east-1"},
      {"AWS_ENDPOINT_URL_COGNITO_IDP", "http://127.0.0.1:9229"},
      {"HOME", "/nonexistent"},
  }));
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_EQ(overridden->endpoint, "http://127.0.0.1:9229");

  auto no_region = CognitoClientOptionsFromEnvironment(dynamo::MapEnvironment({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", "secret"},
      {"HOME", "/nonexistent"},
  }));
  EXPECT_EQ(no_region.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(RegionalCognitoIdpEndpoint("cn-north-1"),
            "https://cognito-idp.cn-north-1.amazonaws.com.cn");
}

TEST(CognitoUsersFileTest, ReadsCliOutputAndRoundTrips) {
  // `aws cognito-idp list-users` output: every page merged, dates as text.
  const std::string dir = testing::TempDir() + "cognito_users_file_" + *NewRandomUuid();
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir + "/users.json");
    out << R"({"Users":[{"Username":"altbrown","Attributes":[
               {"Name":"sub","Value":"sub-alt"},{"Name":"preferred_username","Value":"altbrown"}],
               "UserCreateDate":"2023-03-27T18:42:43.524000+00:00","Enabled":true,
               "UserStatus":"CONFIRMED"}]})";
  }
  auto users = ReadCognitoUsersFile(dir + "/users.json");
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].sub, "sub-alt");

  auto page = ParseCognitoUsersPage(CognitoUsersJson(*users));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->users, *users);
  EXPECT_EQ(page->pagination_token, "");

  EXPECT_EQ(ReadCognitoUsersFile(dir + "/missing.json").status().code(), ErrorCode::kIo);
  {
    std::ofstream out(dir + "/bad.json");
    out << R"({"Users":[{"Username":"x","Attributes":[{"Name":"sub","Value":7}]}]})";
  }
  EXPECT_EQ(ReadCognitoUsersFile(dir + "/bad.json").status().code(), ErrorCode::kIo);
  std::filesystem::remove_all(dir);
}

TEST(CognitoUsersPageTest, RejectsWhatIsNotAListUsersAnswer) {
  for (const char* body :
       {"", "[]", "{}", R"({"Users":{}})", R"({"Users":[1]})",
        R"({"Users":[{"Username":"a","Attributes":{}}]})",
        R"({"Users":[{"Username":"a","Enabled":"yes"}]})", R"({"Users":[],"PaginationToken":5})"}) {
    auto page = ParseCognitoUsersPage(body);
    EXPECT_EQ(page.status().code(), ErrorCode::kIo) << body;
  }
}

CognitoUser PoolUser(std::string handle, std::string sub) {
  CognitoUser user;
  user.username = handle.empty() ? sub : handle;
  user.sub = std::move(sub);
  user.preferred_username = std::move(handle);
  return user;
}

// The sync, run against each real store.
class CognitoSyncTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = testing::TempDir() + "cognito_sync_" + *NewRandomUuid();
      std::filesystem::create_directories(dir_);
      auto opened = SqliteUsersDirectory::Open(dir_ + "/users.sqlite3");
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      users_ = std::move(opened).value();
    } else {
      const std::string url = TestPostgresUrl();
      if (url.empty()) GTEST_SKIP() << "CRUDDUR_TEST_POSTGRES_URL is not set";
      schema_ = std::make_unique<TestSchema>(url);
      ASSERT_TRUE(schema_->ok());
      auto opened = PostgresUsersDirectory::Open({schema_->url()});
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      users_ = std::move(opened).value();
    }
    ASSERT_TRUE(users_->Migrate().ok());
    ASSERT_EQ(*users_->SeedDemoUsers(), 4);
  }
  void TearDown() override {
    users_.reset();
    schema_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string StoredId(const std::string& handle) {
    auto user = users_->UserByHandle(handle);
    EXPECT_TRUE(user.ok()) << handle;
    return user.ok() ? user->cognito_user_id.value_or("") : "";
  }

  std::string dir_;
  std::unique_ptr<TestSchema> schema_;
  std::unique_ptr<UsersDirectory> users_;
};

TEST_P(CognitoSyncTest, SetsSubsByHandleAndRerunChangesNothing) {
  FakeCognito cognito;
  CognitoClientOptions options;
  options.endpoint = cognito.Endpoint();
  options.region = "us-east-1";
  options.credentials = {kAccessKey, kSecret, ""};
  auto pool = ListCognitoUsers(options, kPool);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  pool->push_back(PoolUser("mrbean", "sub-mrbean"));

  auto first = SyncCognitoUserIds(*users_, *pool);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->ok());
  ASSERT_EQ(first->changed.size(), 3u);
  EXPECT_EQ(first->changed[0].handle, "andrewbrown");
  EXPECT_EQ(first->changed[0].sub, "3a5c7e8e-1111-4b2a-9d1e-000000000001");
  EXPECT_EQ(first->changed[0].previous, "");
  EXPECT_EQ(first->changed[1].handle, "bayko");
  EXPECT_EQ(first->changed[2].handle, "londo");
  ASSERT_EQ(first->skipped.size(), 1u);
  EXPECT_EQ(first->skipped[0].username, "hosted-ui-user");
  ASSERT_EQ(first->unmatched.size(), 1u);
  EXPECT_EQ(first->unmatched[0].preferred_username, "mrbean");
  EXPECT_TRUE(first->created.empty());

  EXPECT_EQ(StoredId("andrewbrown"), "3a5c7e8e-1111-4b2a-9d1e-000000000001");
  EXPECT_EQ(StoredId("londo"), "3a5c7e8e-3333-4b2a-9d1e-000000000003");
  EXPECT_EQ(StoredId("altbrown"), "");
  EXPECT_EQ(*users_->UuidFromCognitoUserId("3a5c7e8e-2222-4b2a-9d1e-000000000002"),
            users_->UserByHandle("bayko")->uuid);

  auto again = SyncCognitoUserIds(*users_, *pool);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changed.empty());
  EXPECT_EQ(again->unchanged, (std::vector<std::string>{"andrewbrown", "bayko", "londo"}));
  EXPECT_EQ(users_->ListUsers()->size(), 4u);
}

TEST_P(CognitoSyncTest, PoolReplacesAStaleId) {
  ASSERT_TRUE(users_->SetCognitoUserId("londo", "old-sub").ok());
  auto report = SyncCognitoUserIds(*users_, {PoolUser("londo", "new-sub")});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->changed.size(), 1u);
  EXPECT_EQ(report->changed[0].previous, "old-sub");
  EXPECT_EQ(StoredId("londo"), "new-sub");
}

TEST_P(CognitoSyncTest, SubHeldByAnotherUserFailsThatUserOnly) {
  ASSERT_TRUE(users_->SetCognitoUserId("bayko", "shared-sub").ok());
  auto report = SyncCognitoUserIds(
      *users_, {PoolUser("andrewbrown", "shared-sub"), PoolUser("londo", "sub-londo")});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  ASSERT_EQ(report->failed.size(), 1u);
  EXPECT_EQ(report->failed[0].handle, "andrewbrown");
  EXPECT_EQ(report->failed[0].status.code(), ErrorCode::kResourceInUse)
      << report->failed[0].status.ToString();
  ASSERT_EQ(report->changed.size(), 1u);
  EXPECT_EQ(report->changed[0].handle, "londo");
  EXPECT_EQ(StoredId("andrewbrown"), "");
  EXPECT_EQ(StoredId("bayko"), "shared-sub");
}

TEST_P(CognitoSyncTest, DuplicatePreferredUsernameIsAppliedToNobody) {
  auto report = SyncCognitoUserIds(
      *users_, {PoolUser("andrewbrown", "sub-a"), PoolUser("andrewbrown", "sub-b")});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->failed.size(), 2u);
  EXPECT_EQ(report->failed[0].status.code(), ErrorCode::kValidation);
  EXPECT_NE(report->failed[0].status.message().find("2 pool users have preferred_username "
                                                    "andrewbrown"),
            std::string::npos);
  EXPECT_EQ(StoredId("andrewbrown"), "");
}

TEST_P(CognitoSyncTest, CreateMissingInsertsUsersTheDirectoryLacks) {
  CognitoUser vir = PoolUser("vir", "sub-vir");
  vir.name = "Vir Cotto";
  vir.email = "vir@centauri.example";
  CognitoUser no_email = PoolUser("g-kar", "sub-gkar");
  auto report = SyncCognitoUserIds(*users_, {vir, no_email, PoolUser("londo", "sub-londo")},
                                   {.create_missing = true});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->created.size(), 1u);
  EXPECT_EQ(report->created[0].handle, "vir");
  ASSERT_EQ(report->failed.size(), 1u);
  EXPECT_EQ(report->failed[0].handle, "g-kar");
  EXPECT_EQ(report->failed[0].status.code(), ErrorCode::kValidation);
  EXPECT_EQ(report->changed.size(), 1u);
  auto created = users_->UserByHandle("vir");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->display_name, "Vir Cotto");
  EXPECT_EQ(created->cognito_user_id.value_or(""), "sub-vir");

  auto again = SyncCognitoUserIds(*users_, {vir}, {.create_missing = true});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created.empty());
  EXPECT_EQ(again->unchanged, std::vector<std::string>{"vir"});
}

TEST_P(CognitoSyncTest, MissingTableFailsTheWholeSync) {
  ASSERT_TRUE(users_->Drop().ok());
  auto report = SyncCognitoUserIds(*users_, {PoolUser("londo", "sub-londo")});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kResourceNotFound);
}

INSTANTIATE_TEST_SUITE_P(Stores, CognitoSyncTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cruddur::identity
