#include "dynamo/server/dynamo_service.h"

#include <gtest/gtest.h>
#include <zlib.h>

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

  static std::string ErrorType(const net::HttpResponse& r) {
    json::Document doc;
    EXPECT_TRUE(json::Parse(r.body, &doc).ok()) << r.body;
    std::string type = doc["__type"].GetString();
    return type.substr(type.find('#') + 1);
  }

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

}  // namespace
}  // namespace cruddur::dynamo
