#include "dynamo/server/dynamo_service.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cctype>
#include <functional>
#include <tuple>

#include "aws/sigv4.h"
#include "common/json.h"
#include "dynamo/server/local_client.h"

namespace cruddur::dynamo {
namespace {

class DynamoServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::EngineOptions options;
    options.path = "/dynamo-service-test";
    options.in_memory = true;
    auto engine = storage::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    service_ = std::make_unique<DynamoService>(engine_.get(), DynamoServiceOptions{});
  }

  net::HttpResponse Call(std::string target, std::string body, bool signed_request = true,
                         std::string content_type = "application/x-amz-json-1.0") {
    net::HttpRequest req;
    req.method = "POST";
    req.target = "/";
    if (!target.empty()) req.headers.emplace_back("x-amz-target", "DynamoDB_20120810." + target);
    if (!content_type.empty()) req.headers.emplace_back("content-type", content_type);
    if (signed_request) {
      req.headers.emplace_back("authorization",
                               "AWS4-HMAC-SHA256 Credential=key_with_underscores/20261124/"
                               "us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, "
                               "Signature=abcdef");
      req.headers.emplace_back("x-amz-date", "20261124T000000Z");
    }
    req.body = std::move(body);
    net::HttpResponse resp;
    service_->Handle(req, &resp);
    return resp;
  }

  static std::string Header(const net::HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  static std::string ErrorType(const net::HttpResponse& r) { return ErrorTypeOf(r); }

 public:
  static std::string ErrorTypeOf(const net::HttpResponse& r) {
    json::Document doc;
    EXPECT_TRUE(json::Parse(r.body, &doc).ok()) << r.body;
    if (!doc.IsObject() || !doc.HasMember("__type")) return "";
    std::string type = doc["__type"].GetString();
    return type.substr(type.find('#') + 1);
  }

 protected:
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<DynamoService> service_;
};

TEST_F(DynamoServiceTest, AnswersWithRequestIdAndBodyCrc) {
  net::HttpResponse r = Call("ListTables", "{}");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"TableNames":[]})");
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(r.body.data()), static_cast<uInt>(r.body.size())));
  EXPECT_EQ(Header(r, "x-amz-crc32"), std::to_string(crc));
  EXPECT_EQ(Header(r, "x-amzn-RequestId").size(), 52u);
  EXPECT_EQ(Header(r, "Content-Type"), "application/x-amz-json-1.0");
}

TEST_F(DynamoServiceTest, ProtocolErrors) {
  net::HttpResponse r = Call("ListTables", "{\"Limit\":");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorType(r), "SerializationException");

  r = Call("NoSuchOperation", "{}");
  EXPECT_EQ(ErrorType(r), "UnknownOperationException");

  r = Call("ListTables", "{}", /*signed_request=*/false);
  EXPECT_EQ(ErrorType(r), "MissingAuthenticationTokenException");

  r = Call("ListTables", "{}", true, "text/plain");
  EXPECT_EQ(ErrorType(r), "UnknownOperationException");

  r = Call("ListTables", "");
  EXPECT_EQ(ErrorType(r), "SerializationException");

  std::string deep(300, '[');
  r = Call("ListTables", deep + std::string(300, ']'));
  EXPECT_EQ(ErrorType(r), "SerializationException");
}

TEST_F(DynamoServiceTest, ValidationErrorBody) {
  net::HttpResponse r = Call("DescribeTable", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"1 )"
            R"(validation error detected: Value null at 'tableName' failed to satisfy )"
            R"(constraint: Member must not be null"})");
}

TEST_F(DynamoServiceTest, ErrorDetailsAreSplicedIntoTheBody) {
  Status st = ConditionFailedError().WithDetails(R"("Item":{"pk":{"S":"a"}})");
  EXPECT_EQ(DynamoService::ErrorBody(st),
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
            R"("message":"The conditional request failed","Item":{"pk":{"S":"a"}}})");
}

TEST_F(DynamoServiceTest, LocalClientRunsOperationsWithoutHttp) {
  LocalDynamoClient client(service_.get());
  EXPECT_EQ(client.region(), "us-east-1");
  Result<std::string> created =
      client.Call(Api::kDynamoDB, "CreateTable",
                  R"({"TableName":"local","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                  R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                  R"("BillingMode":"PAY_PER_REQUEST"})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(client
                  .Call(Api::kDynamoDB, "PutItem",
                        R"({"TableName":"local","Item":{"pk":{"S":"a"},"n":{"N":"1"}}})")
                  .ok());
  Result<std::string> got =
      client.Call(Api::kDynamoDB, "GetItem", R"({"TableName":"local","Key":{"pk":{"S":"a"}}})");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, R"({"Item":{"n":{"N":"1"},"pk":{"S":"a"}}})");

  Result<std::string> failed = client.Call(
      Api::kDynamoDB, "PutItem",
      R"j({"TableName":"local","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)"})j");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kConditionalCheckFailed);
  EXPECT_EQ(client.Call(Api::kDynamoDB, "NoSuchOperation", "{}").status().code(),
            ErrorCode::kUnknownOperation);
  EXPECT_EQ(client.Call(Api::kDynamoDB, "GetItem", "{not json").status().code(),
            ErrorCode::kSerialization);
}

TEST_F(DynamoServiceTest, HealthCheck) {
  net::HttpRequest req;
  req.method = "GET";
  req.target = "/";
  net::HttpResponse resp;
  service_->Handle(req, &resp);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "healthy: dynamodb.us-east-1.amazonaws.com ");
}

TEST_F(DynamoServiceTest, TableLifecycle) {
  net::HttpResponse r =
      Call("CreateTable", R"({"TableName":"table1","BillingMode":"PAY_PER_REQUEST",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("CreateTable", R"({"TableName":"table1","BillingMode":"PAY_PER_REQUEST",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]})");
  EXPECT_EQ(ErrorType(r), "ResourceInUseException");
  r = Call("PutItem", R"({"TableName":"table1","Item":{"pk":{"S":"a"},"n":{"N":"1.50"}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("GetItem", R"({"TableName":"table1","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(r.body, R"({"Item":{"n":{"N":"1.5"},"pk":{"S":"a"}}})");
  r = Call("DeleteTable", R"({"TableName":"table1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("GetItem", R"({"TableName":"table1","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(ErrorType(r), "ResourceNotFoundException");
}

// ---- With an auth file: SigV4 verification and IAM policies -------------------------------

constexpr int64_t kNow = 1795000000;  // the service's fixed clock: 2026-11-18T11:06:40Z
constexpr std::string_view kAccount = "546310198960";

// The seed's inline policy for the message-stream Lambda, as written there.
constexpr std::string_view kSeedInlinePolicy = R"({
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query"
            ],
            "Resource": [
                "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages",
                "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/index/message-group-sk-index"
            ]
        }
    ]
})";

const aws::Credentials kAdmin{"AKIAADMIN", "admin-secret", ""};
const aws::Credentials kStream{"AKIASTREAM", "stream-secret", "stream-token"};
const aws::Credentials kReader{"AKIAREADER", "reader-secret", ""};
const aws::Credentials kNobody{"AKIANOBODY", "nobody-secret", ""};

class DynamoServiceAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::EngineOptions options;
    options.path = "/dynamo-service-auth-test";
    options.in_memory = true;
    auto engine = storage::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    std::string config = R"({"AccountId":"546310198960","Principals":[
      {"AccessKeyId":"AKIAADMIN","SecretAccessKey":"admin-secret","User":"admin",
       "Policies":[{"Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}]},
      {"AccessKeyId":"AKIASTREAM","SecretAccessKey":"stream-secret","SessionToken":"stream-token",
       "Role":"cruddur-messaging-stream-role","SessionName":"cruddur-messaging-stream",
       "Policies":[)" + std::string(kSeedInlinePolicy) +
                         R"(]},
      {"AccessKeyId":"AKIAREADER","SecretAccessKey":"reader-secret","User":"reader",
       "Policies":[{"Version":"2012-10-17","Statement":[
         {"Effect":"Allow","Action":["dynamodb:Get*","dynamodb:BatchWriteItem",
            "dynamodb:DescribeStream"],
          "Resource":["arn:aws:dynamodb:*:*:table/cruddur-messages",
                      "arn:aws:dynamodb:*:*:table/cruddur-messages/stream/*"]},
         {"Effect":"Allow","Action":"dynamodb:BatchWriteItem","Resource":"*"},
         {"Effect":"Deny","Action":"dynamodb:BatchWriteItem",
          "Resource":"arn:aws:dynamodb:*:*:table/other"}]}]},
      {"AccessKeyId":"AKIANOBODY","SecretAccessKey":"nobody-secret","User":"nobody",
       "Policies":[]}]})";
    auto parsed = auth::AuthConfig::Parse(config);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    DynamoServiceOptions service_options;
    service_options.auth = std::make_shared<const auth::AuthConfig>(std::move(parsed).value());
    service_options.now_seconds = [] { return kNow; };
    service_ = std::make_unique<DynamoService>(engine_.get(), std::move(service_options));

    ASSERT_EQ(
        Call("CreateTable", R"({"TableName":"cruddur-messages","BillingMode":"PAY_PER_REQUEST",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
          {"AttributeName":"sk","AttributeType":"S"},
          {"AttributeName":"message_group_uuid","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
        "GlobalSecondaryIndexes":[{"IndexName":"message-group-sk-index",
          "KeySchema":[{"AttributeName":"message_group_uuid","KeyType":"HASH"},
                       {"AttributeName":"sk","KeyType":"RANGE"}],
          "Projection":{"ProjectionType":"ALL"}}],
        "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}})",
             kAdmin)
            .status,
        200);
    ASSERT_EQ(Call("CreateTable", R"({"TableName":"other","BillingMode":"PAY_PER_REQUEST",
        "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})",
                   kAdmin)
                  .status,
              200);
  }

  // A request signed with `creds` at `sign_time`; `tamper` may change it after signing.
  net::HttpResponse Call(std::string_view operation, std::string body,
                         const aws::Credentials& creds, int64_t sign_time = kNow,
                         const std::function<void(net::HttpRequest*)>& tamper = nullptr,
                         std::string_view prefix = "DynamoDB_20120810.") {
    net::HttpRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"host", "localhost:8000"},
                   {"content-type", "application/x-amz-json-1.0"},
                   {"x-amz-target", std::string(prefix) + std::string(operation)}};
    req.body = std::move(body);
    aws::SigV4 signer;
    auto signed_request = signer.Sign({req.method, req.target, req.headers, req.body}, creds,
                                      "us-east-1", "dynamodb", sign_time);
    EXPECT_TRUE(signed_request.ok()) << signed_request.status().ToString();
    for (auto [name, value] : signed_request->headers_to_add) {
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::move(value));
    }
    if (tamper) tamper(&req);
    net::HttpResponse resp;
    service_->Handle(req, &resp);
    return resp;
  }

  net::HttpResponse Streams(std::string_view operation, std::string body,
                            const aws::Credentials& creds) {
    return Call(operation, std::move(body), creds, kNow, nullptr, "DynamoDBStreams_20120810.");
  }

  static std::string Message(const net::HttpResponse& r) {
    json::Document doc;
    EXPECT_TRUE(json::Parse(r.body, &doc).ok()) << r.body;
    return doc.HasMember("message") ? doc["message"].GetString() : "";
  }

  // Expects AccessDeniedException (HTTP 400) naming `action` and `resource`.
  static void ExpectDenied(const net::HttpResponse& r, std::string_view principal_arn,
                           std::string_view action, std::string_view resource) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "AccessDeniedException") << r.body;
    EXPECT_EQ(Message(r), "User: " + std::string(principal_arn) +
                              " is not authorized to perform: " + std::string(action) +
                              " on resource: " + std::string(resource) +
                              " because no identity-based policy allows the " +
                              std::string(action) + " action");
  }

  std::string StreamArn() {
    net::HttpResponse r = Call("DescribeTable", R"({"TableName":"cruddur-messages"})", kAdmin);
    json::Document doc;
    EXPECT_TRUE(json::Parse(r.body, &doc).ok());
    return doc["Table"]["LatestStreamArn"].GetString();
  }

  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<DynamoService> service_;
};

constexpr std::string_view kStreamArn =
    "arn:aws:sts::546310198960:assumed-role/cruddur-messaging-stream-role/"
    "cruddur-messaging-stream";
const std::string kMessagesArn =
    "arn:aws:dynamodb:us-east-1:" + std::string(kAccount) + ":table/cruddur-messages";
const std::string kOtherArn =
    "arn:aws:dynamodb:us-east-1:" + std::string(kAccount) + ":table/other";

TEST_F(DynamoServiceAuthTest, SignatureErrors) {
  // No Authorization header at all.
  net::HttpResponse r = Call("ListTables", "{}", kAdmin, kNow, [](net::HttpRequest* req) {
    std::erase_if(req->headers, [](const auto& h) { return h.first == "authorization"; });
  });
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "MissingAuthenticationTokenException");

  r = Call("ListTables", "{}", kAdmin, kNow, [](net::HttpRequest* req) {
    for (auto& h : req->headers) {
      if (h.first == "authorization") h.second = "AWS4-HMAC-SHA256 Credential=AKIAADMIN";
    }
  });
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "IncompleteSignatureException");

  r = Call("ListTables", "{}", {"AKIAUNKNOWN", "whatever", ""});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "UnrecognizedClientException");
  EXPECT_EQ(Message(r), "The security token included in the request is invalid.");

  r = Call("ListTables", "{}", {"AKIAADMIN", "wrong-secret", ""});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "InvalidSignatureException");
  EXPECT_EQ(Message(r),
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.");

  // The body is covered by the signature.
  r = Call("DeleteTable", R"({"TableName":"other"})", kAdmin, kNow,
           [](net::HttpRequest* req) { req->body = R"({"TableName":"cruddur-messages"})"; });
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "InvalidSignatureException");

  // Clock skew beyond 15 minutes either way; within it is fine.
  r = Call("ListTables", "{}", kAdmin, kNow - 16 * 60);
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "InvalidSignatureException");
  EXPECT_EQ(Message(r).substr(0, 18), "Signature expired:");
  r = Call("ListTables", "{}", kAdmin, kNow + 16 * 60);
  EXPECT_EQ(Message(r).substr(0, 26), "Signature not yet current:");
  EXPECT_EQ(Call("ListTables", "{}", kAdmin, kNow - 14 * 60).status, 200);

  // Session tokens: required where configured, refused where not.
  EXPECT_EQ(
      DynamoServiceTest::ErrorTypeOf(Call("DeleteItem", "{}", {"AKIASTREAM", "stream-secret", ""})),
      "UnrecognizedClientException");
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(
                Call("DeleteItem", "{}", {"AKIASTREAM", "stream-secret", "stream-tokeX"})),
            "UnrecognizedClientException");
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(
                Call("ListTables", "{}", {"AKIAADMIN", "admin-secret", "a-token"})),
            "UnrecognizedClientException");

  // The Streams API is verified alike.
  r = Call("ListStreams", "{}", {"AKIAADMIN", "wrong-secret", ""}, kNow, nullptr,
           "DynamoDBStreams_20120810.");
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "InvalidSignatureException");
}

TEST_F(DynamoServiceAuthTest, SeedInlinePolicyAllowsExactlyWhatTheStreamHandlerNeeds) {
  net::HttpResponse r = Call("PutItem", R"({"TableName":"cruddur-messages","Item":{
      "pk":{"S":"GRP#u1"},"sk":{"S":"2026"},"message_group_uuid":{"S":"g1"}}})",
                             kStream);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Call("Query", R"({"TableName":"cruddur-messages","IndexName":"message-group-sk-index",
      "KeyConditionExpression":"message_group_uuid = :g",
      "ExpressionAttributeValues":{":g":{"S":"g1"}}})",
           kStream);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"Count\":1"), std::string::npos) << r.body;
  r = Call("Query", R"({"TableName":"cruddur-messages","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"GRP#u1"}}})",
           kStream);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Call("DeleteItem",
           R"({"TableName":"cruddur-messages","Key":{"pk":{"S":"GRP#u1"},"sk":{"S":"2026"}}})",
           kStream);
  EXPECT_EQ(r.status, 200) << r.body;

  ExpectDenied(Call("Scan", R"({"TableName":"cruddur-messages"})", kStream), kStreamArn,
               "dynamodb:Scan", kMessagesArn);
  ExpectDenied(Call("PutItem", R"({"TableName":"other","Item":{"id":{"S":"x"}}})", kStream),
               kStreamArn, "dynamodb:PutItem", kOtherArn);
  ExpectDenied(
      Call("GetItem", R"({"TableName":"cruddur-messages","Key":{"pk":{"S":"a"},"sk":{"S":"b"}}})",
           kStream),
      kStreamArn, "dynamodb:GetItem", kMessagesArn);
  ExpectDenied(Call("ListTables", "{}", kStream), kStreamArn, "dynamodb:ListTables", "*");
  ExpectDenied(Streams("ListStreams", "{}", kStream), kStreamArn, "dynamodb:ListStreams", "*");
  // Nothing reached the other table.
  r = Call("Scan", R"({"TableName":"other"})", kAdmin);
  EXPECT_NE(r.body.find("\"Count\":0"), std::string::npos) << r.body;
}

TEST_F(DynamoServiceAuthTest, EngineArnsUseTheConfiguredAccount) {
  net::HttpResponse r = Call("DescribeTable", R"({"TableName":"cruddur-messages"})", kAdmin);
  EXPECT_NE(r.body.find("\"TableArn\":\"" + kMessagesArn + "\""), std::string::npos) << r.body;
  EXPECT_EQ(StreamArn().substr(0, kMessagesArn.size() + 8), kMessagesArn + "/stream/");
}

TEST_F(DynamoServiceAuthTest, StreamsOperationsAreAuthorizedOnTheStreamArn) {
  ASSERT_EQ(Call("PutItem", R"({"TableName":"cruddur-messages","Item":{
      "pk":{"S":"a"},"sk":{"S":"1"}}})",
                 kAdmin)
                .status,
            200);
  const std::string stream = StreamArn();
  net::HttpResponse r = Streams("DescribeStream", R"({"StreamArn":")" + stream + R"("})", kReader);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document doc;
  ASSERT_TRUE(json::Parse(r.body, &doc).ok());
  std::string shard = doc["StreamDescription"]["Shards"][0]["ShardId"].GetString();
  r = Streams("GetShardIterator",
              R"({"StreamArn":")" + stream + R"(","ShardId":")" + shard +
                  R"(","ShardIteratorType":"TRIM_HORIZON"})",
              kReader);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document it;
  ASSERT_TRUE(json::Parse(r.body, &it).ok());
  std::string iterator = it["ShardIterator"].GetString();
  r = Streams("GetRecords", R"({"ShardIterator":")" + iterator + R"("})", kReader);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"eventName\":\"INSERT\""), std::string::npos) << r.body;

  // The seed's policy grants no Streams action: every one is denied, on the stream ARN.
  ExpectDenied(Streams("DescribeStream", R"({"StreamArn":")" + stream + R"("})", kStream),
               kStreamArn, "dynamodb:DescribeStream", stream);
  ExpectDenied(Streams("GetRecords", R"({"ShardIterator":")" + iterator + R"("})", kStream),
               kStreamArn, "dynamodb:GetRecords", stream);
  ExpectDenied(Streams("GetShardIterator",
                       R"({"StreamArn":")" + stream + R"(","ShardId":")" + shard +
                           R"(","ShardIteratorType":"LATEST"})",
                       kStream),
               kStreamArn, "dynamodb:GetShardIterator", stream);
}

TEST_F(DynamoServiceAuthTest, ABatchWithOneDeniedTableWritesNothing) {
  net::HttpResponse r = Call("BatchWriteItem", R"({"RequestItems":{
      "cruddur-messages":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"S":"1"}}}}],
      "other":[{"PutRequest":{"Item":{"id":{"S":"x"}}}}]}})",
                             kReader);
  EXPECT_EQ(DynamoServiceTest::ErrorTypeOf(r), "AccessDeniedException");
  EXPECT_EQ(Message(r),
            "User: arn:aws:iam::546310198960:user/reader is not authorized to perform: "
            "dynamodb:BatchWriteItem on resource: " +
                kOtherArn + " with an explicit deny in an identity-based policy");
  r = Call("GetItem", R"({"TableName":"cruddur-messages","Key":{"pk":{"S":"a"},"sk":{"S":"1"}}})",
           kReader);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");

  r = Call("BatchWriteItem", R"({"RequestItems":{
      "cruddur-messages":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"S":"1"}}}}]}})",
           kReader);
  EXPECT_EQ(r.status, 200) << r.body;
}

// With no allowing policy, no operation of either API reads or changes anything.
TEST_F(DynamoServiceAuthTest, EveryOperationNeedsAnAllowingPolicy) {
  const std::string stream = StreamArn();
  const std::string table = R"("TableName":"cruddur-messages")";
  const std::string key = R"("Key":{"pk":{"S":"a"},"sk":{"S":"1"}})";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"CreateTable", R"({"TableName":"new","BillingMode":"PAY_PER_REQUEST",
         "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
         "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})",
       "dynamodb:CreateTable"},
      {"DescribeTable", "{" + table + "}", "dynamodb:DescribeTable"},
      {"UpdateTable", "{" + table + R"(,"BillingMode":"PAY_PER_REQUEST"})", "dynamodb:UpdateTable"},
      {"DeleteTable", "{" + table + "}", "dynamodb:DeleteTable"},
      {"ListTables", "{}", "dynamodb:ListTables"},
      {"PutItem", "{" + table + R"(,"Item":{"pk":{"S":"a"},"sk":{"S":"1"}}})", "dynamodb:PutItem"},
      {"GetItem", "{" + table + "," + key + "}", "dynamodb:GetItem"},
      {"UpdateItem", "{" + table + "," + key + R"(,"UpdateExpression":"SET v = :v",
         "ExpressionAttributeValues":{":v":{"N":"1"}}})",
       "dynamodb:UpdateItem"},
      {"DeleteItem", "{" + table + "," + key + "}", "dynamodb:DeleteItem"},
      {"Query", "{" + table + R"(,"KeyConditionExpression":"pk = :p",
         "ExpressionAttributeValues":{":p":{"S":"a"}}})",
       "dynamodb:Query"},
      {"Scan", "{" + table + "}", "dynamodb:Scan"},
      {"BatchGetItem",
       R"({"RequestItems":{"cruddur-messages":{"Keys":[{"pk":{"S":"a"},"sk":{"S":"1"}}]}}})",
       "dynamodb:BatchGetItem"},
      {"BatchWriteItem",
       R"({"RequestItems":{"cruddur-messages":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"S":"1"}}}}]}})",
       "dynamodb:BatchWriteItem"},
      {"TransactGetItems", R"({"TransactItems":[{"Get":{)" + table + "," + key + "}}]}",
       "dynamodb:GetItem"},
      {"TransactWriteItems",
       R"({"TransactItems":[{"Put":{)" + table + R"(,"Item":{"pk":{"S":"a"},"sk":{"S":"1"}}}}]})",
       "dynamodb:PutItem"},
  };
  const std::string nobody = "arn:aws:iam::546310198960:user/nobody";
  for (const auto& [operation, body, action] : cases) {
    SCOPED_TRACE(operation);
    std::string resource =
        operation == "ListTables" ? "*"
        : operation == "CreateTable"
            ? "arn:aws:dynamodb:us-east-1:" + std::string(kAccount) + ":table/new"
            : kMessagesArn;
    ExpectDenied(Call(operation, body, kNobody), nobody, action, resource);
  }
  ExpectDenied(Streams("ListStreams", "{}", kNobody), nobody, "dynamodb:ListStreams", "*");
  ExpectDenied(Streams("DescribeStream", R"({"StreamArn":")" + stream + R"("})", kNobody), nobody,
               "dynamodb:DescribeStream", stream);
  ExpectDenied(
      Streams("GetShardIterator",
              R"({"StreamArn":")" + stream + R"(","ShardId":"x","ShardIteratorType":"LATEST"})",
              kNobody),
      nobody, "dynamodb:GetShardIterator", stream);
  ExpectDenied(Streams("GetRecords", R"({"ShardIterator":")" + stream + R"(|1|eA=="})", kNobody),
               nobody, "dynamodb:GetRecords", stream);
  // Nothing changed: both tables still there, no item written, no table created.
  net::HttpResponse r = Call("ListTables", "{}", kAdmin);
  EXPECT_EQ(r.body, R"({"TableNames":["cruddur-messages","other"]})");
  r = Call("Scan", R"({"TableName":"cruddur-messages"})", kAdmin);
  EXPECT_NE(r.body.find("\"Count\":0"), std::string::npos) << r.body;
}

TEST_F(DynamoServiceAuthTest, UnsignedHealthCheckStillAnswers) {
  net::HttpRequest req;
  req.method = "GET";
  req.target = "/";
  net::HttpResponse resp;
  service_->Handle(req, &resp);
  EXPECT_EQ(resp.status, 200);
}

}  // namespace
}  // namespace cruddur::dynamo
