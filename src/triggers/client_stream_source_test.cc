// ClientStreamSource and the runner against the real engine, through the in-process client
// (LocalDynamoClient -> DynamoService -> the Streams API over the engine's stream log).
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "common/json.h"
#include "dynamo/server/dynamo_service.h"
#include "dynamo/server/local_client.h"
#include "triggers/stream_source.h"
#include "triggers/trigger_runner.h"

namespace cruddur::triggers {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class ClientStreamSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dynamo::storage::EngineOptions options;
    options.path = "/client-stream-source-test";
    options.in_memory = true;
    auto engine = dynamo::storage::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    service_ =
        std::make_unique<dynamo::DynamoService>(engine_.get(), dynamo::DynamoServiceOptions{});
    client_ = std::make_unique<dynamo::LocalDynamoClient>(service_.get());
  }

  std::string Call(std::string_view op, const std::string& body) {
    auto r = client_->Call(dynamo::Api::kDynamoDB, op, body);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    return r.ok() ? *r : "";
  }
  void CreateTable(const std::string& name, const std::string& stream_view) {
    std::string body = R"({"TableName":")" + name +
                       R"(","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
                       R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
                       R"("BillingMode":"PAY_PER_REQUEST")";
    if (!stream_view.empty()) {
      body += R"(,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":")" + stream_view +
              R"("})";
    }
    Call("CreateTable", body + "}");
  }
  void Put(const std::string& table, const std::string& pk, const std::string& v) {
    Call("PutItem", R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk +
                        R"("},"v":{"S":")" + v + R"("}}})");
  }

  std::unique_ptr<dynamo::storage::Engine> engine_;
  std::unique_ptr<dynamo::DynamoService> service_;
  std::unique_ptr<dynamo::LocalDynamoClient> client_;
};

TEST_F(ClientStreamSourceTest, ReadsTheStreamAsTheApiServesIt) {
  CreateTable("trig-src", "NEW_AND_OLD_IMAGES");
  Put("trig-src", "a", "1");
  Put("trig-src", "a", "2");
  Call("DeleteItem", R"({"TableName":"trig-src","Key":{"pk":{"S":"a"}}})");

  ClientStreamSource source(client_.get());
  auto arn = source.LatestStreamArn("trig-src");
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  EXPECT_NE(arn->find(":table/trig-src/stream/"), std::string::npos) << *arn;

  auto shards = source.ListShards(*arn);
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_FALSE(shards->empty());
  const Shard& shard = shards->front();
  EXPECT_GE(shard.shard_id.size(), 28u);
  EXPECT_FALSE(shard.closed());

  auto it = source.GetShardIterator(*arn, shard.shard_id, IteratorType::kTrimHorizon, "");
  ASSERT_TRUE(it.ok()) << it.status().ToString();
  auto page = source.GetRecords(*it, 1000);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->records.size(), 3u);
  EXPECT_EQ(page->records[0].event_name, "INSERT");
  EXPECT_EQ(page->records[1].event_name, "MODIFY");
  EXPECT_EQ(page->records[2].event_name, "REMOVE");
  EXPECT_LT(page->records[0].sequence_number, page->records[1].sequence_number);
  EXPECT_TRUE(page->next_iterator.has_value());  // an open shard
  json::Document doc;
  ASSERT_TRUE(json::Parse(page->records[1].json, &doc).ok());
  EXPECT_STREQ(doc["dynamodb"]["OldImage"]["v"]["S"].GetString(), "1");
  EXPECT_STREQ(doc["dynamodb"]["NewImage"]["v"]["S"].GetString(), "2");

  // AFTER_SEQUENCE_NUMBER resumes right after a record; LATEST sees only what comes next.
  auto after = source.GetShardIterator(*arn, shard.shard_id, IteratorType::kAfterSequenceNumber,
                                       page->records[0].sequence_number);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  auto rest = source.GetRecords(*after, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->records.size(), 2u);
  EXPECT_EQ(rest->records[0].sequence_number, page->records[1].sequence_number);
  auto latest = source.GetShardIterator(*arn, shard.shard_id, IteratorType::kLatest, "");
  ASSERT_TRUE(latest.ok());
  Put("trig-src", "b", "1");
  auto fresh = source.GetRecords(*latest, 10);
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ(fresh->records.size(), 1u);
  EXPECT_EQ(fresh->records[0].event_name, "INSERT");

  auto bad = source.GetRecords("not-an-iterator", 10);
  EXPECT_FALSE(bad.ok());
}

TEST_F(ClientStreamSourceTest, TableWithoutStream) {
  CreateTable("trig-nostream", "");
  ClientStreamSource source(client_.get());
  auto arn = source.LatestStreamArn("trig-nostream");
  ASSERT_FALSE(arn.ok());
  EXPECT_EQ(arn.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(source.LatestStreamArn("no-such-table").status().code(), ErrorCode::kResourceNotFound);
  // A disabled stream is not followed, although DescribeTable still names it.
  CreateTable("trig-disabled", "KEYS_ONLY");
  ASSERT_TRUE(source.LatestStreamArn("trig-disabled").ok());
  Call("UpdateTable",
       R"({"TableName":"trig-disabled","StreamSpecification":{"StreamEnabled":false}})");
  EXPECT_EQ(source.LatestStreamArn("trig-disabled").status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(ClientStreamSourceTest, RunnerDeliversEveryWriteInOrder) {
  CreateTable("trig-run", "NEW_IMAGE");
  for (int i = 0; i < 20; ++i) Put("trig-run", "k" + std::to_string(i), "v");

  std::mutex mu;
  std::vector<std::string> keys;
  NativeHandlerRegistry natives;
  natives.Register("collect", [&](const Batch& b) {
    std::lock_guard lock(mu);
    for (const StreamRecord& r : b.records) {
      json::Document doc;
      if (json::Parse(r.json, &doc).ok()) {
        keys.push_back(doc["dynamodb"]["Keys"]["pk"]["S"].GetString());
      }
    }
    return Status::Ok();
  });
  ClientStreamSource source(client_.get());
  RunnerOptions options;
  options.idle_wait = milliseconds(20);
  options.shard_refresh = milliseconds(50);
  options.natives = &natives;
  auto runner = TriggerRunner::Create(&source, client_.get(), options);
  ASSERT_TRUE(runner.ok());
  auto spec = ParseMappingSpec("name=collect,table=trig-run,batch-size=7,native=collect");
  ASSERT_TRUE(spec.ok());
  ASSERT_TRUE((*runner)->Start({*spec}).ok());
  for (int i = 20; i < 30; ++i) Put("trig-run", "k" + std::to_string(i), "v");

  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (keys.size() >= 30) break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  (*runner)->Stop();
  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) expected.push_back("k" + std::to_string(i));
  EXPECT_EQ(keys, expected);
}

}  // namespace
}  // namespace cruddur::triggers
