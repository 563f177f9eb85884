// Disk faults as a client sees them: a write the storage could not store is answered with
// InternalServerError (HTTP 500) and never shows up afterwards; once the disk works again the
// same service takes writes again.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/json.h"
#include "dynamo/server/dynamo_service.h"
#include "dynamo/storage/fault_fs.h"

namespace cruddur::dynamo {
namespace {

using storage::FaultFileSystem;

class FaultServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/fault_service_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    storage::EngineOptions options{.path = dir_ + "/db"};
    options.file_system = fs_;
    auto engine = storage::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    service_ = std::make_unique<DynamoService>(engine_.get(), DynamoServiceOptions{});
  }
  void TearDown() override {
    service_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<std::string> Execute(std::string_view operation, std::string_view body) {
    return service_->Execute(Api::kDynamoDB, operation, body);
  }

  // Through the HTTP handler, as an SDK's request arrives.
  net::HttpResponse Handle(std::string_view operation, std::string body) {
    net::HttpRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers.emplace_back("x-amz-target", "DynamoDB_20120810." + std::string(operation));
    req.headers.emplace_back("content-type", "application/x-amz-json-1.0");
    req.headers.emplace_back("authorization",
                             "AWS4-HMAC-SHA256 Credential=key/20261124/us-east-1/dynamodb/"
                             "aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef");
    req.headers.emplace_back("x-amz-date", "20261124T000000Z");
    req.body = std::move(body);
    net::HttpResponse resp;
    service_->Handle(req, &resp);
    return resp;
  }

  std::string dir_;
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<DynamoService> service_;
};

TEST_F(FaultServiceTest, WriteDuringFaultIsInternalServerErrorAndNotStored) {
  Result<std::string> created = Execute(
      "CreateTable", R"({"TableName":"msgs","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                     R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                     R"("BillingMode":"PAY_PER_REQUEST"})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(Execute("PutItem", R"({"TableName":"msgs","Item":{"pk":{"S":"before"}}})").ok());

  fs_->SetFault({.error = FaultFileSystem::Error::kIo,
                 .ops = FaultFileSystem::kAppend,
                 .files = FaultFileSystem::kWal});
  Result<std::string> put =
      Execute("PutItem", R"({"TableName":"msgs","Item":{"pk":{"S":"lost"}}})");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(ErrorCodeName(put.status().code()), "InternalServerError");
  EXPECT_EQ(ErrorCodeHttpStatus(put.status().code()), 500);

  net::HttpResponse resp = Handle("PutItem", R"({"TableName":"msgs","Item":{"pk":{"S":"lost2"}}})");
  EXPECT_EQ(resp.status, 500);
  json::Document doc;
  ASSERT_TRUE(json::Parse(resp.body, &doc).ok()) << resp.body;
  EXPECT_EQ(std::string(doc["__type"].GetString()),
            "com.amazonaws.dynamodb.v20120810#InternalServerError");

  // Reads still work, and see neither write.
  Result<std::string> got = Execute("GetItem", R"({"TableName":"msgs","Key":{"pk":{"S":"lost"}}})");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "{}");
  got = Execute("GetItem", R"({"TableName":"msgs","Key":{"pk":{"S":"before"}}})");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, R"({"Item":{"pk":{"S":"before"}}})");

  // The disk works again: so does the service, without a restart.
  fs_->Clear();
  Result<std::string> after = Execute("PutItem", R"({"TableName":"msgs","Item":{"pk":{"S":"a"}}})");
  for (int i = 0; i < 500 && !after.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = Execute("PutItem", R"({"TableName":"msgs","Item":{"pk":{"S":"a"}}})");
  }
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  Result<std::string> count = Execute("Scan", R"({"TableName":"msgs","Select":"COUNT"})");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_NE(count->find(R"("Count":2)"), std::string::npos) << *count;
}

}  // namespace
}  // namespace cruddur::dynamo
