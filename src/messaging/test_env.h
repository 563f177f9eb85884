// Test-only: a real messaging stack in one process. An in-memory dynamo::storage::Engine behind a
// DynamoService and a LocalDynamoClient, the cruddur-messages table made by MessageStore's
// CreateTable (with its stream), a SQLite users directory in a temporary folder holding the
// seed's demo users, a manual clock and helpers that read the table's stream through the
// Streams API (ListStreams, DescribeStream, GetShardIterator, GetRecords).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "dynamo/server/dynamo_service.h"
#include "dynamo/server/local_client.h"
#include "identity/sqlite_users_directory.h"
#include "messaging/clock.h"
#include "messaging/store.h"
#include "messaging/stream_handler.h"

namespace cruddur::messaging::msgtest {

// 2025-12-31T23:00:00Z, an hour before a year boundary.
inline constexpr std::int64_t kNewYearsEve = 1767222000LL * 1000000;

class MessagingEnv {
 public:
  MessagingEnv() : clock_(kNewYearsEve) {
    dynamo::storage::EngineOptions options;
    options.path = "/messaging-test";
    options.in_memory = true;
    auto engine = dynamo::storage::Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    service_ =
        std::make_unique<dynamo::DynamoService>(engine_.get(), dynamo::DynamoServiceOptions{});
    client_ = std::make_unique<dynamo::LocalDynamoClient>(service_.get());
    store_ = std::make_unique<MessageStore>(
        client_.get(), MessageStoreOptions{"cruddur-messages", clock_.AsClock()});
    Status created = store_->CreateTable();
    EXPECT_TRUE(created.ok()) << created.ToString();

    char tmpl[] = "/tmp/messaging-test-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto users = identity::SqliteUsersDirectory::Open(dir_ + "/users.sqlite3");
    EXPECT_TRUE(users.ok()) << users.status().ToString();
    users_ = std::move(users).value();
    EXPECT_TRUE(users_->Migrate().ok());
    EXPECT_TRUE(users_->SeedDemoUsers().ok());
  }
  ~MessagingEnv() {
    users_.reset();
    std::filesystem::remove_all(dir_);
  }

  identity::ShortProfile Profile(const std::string& handle) {
    auto p = users_->ShortProfileByHandle(handle);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : identity::ShortProfile{};
  }

  // Every record of the table's stream, from the start of every shard, as JSON texts.
  std::vector<std::string> StreamRecords() {
    std::vector<std::string> out;
    json::Document streams;
    EXPECT_TRUE(StreamsCall("ListStreams", R"({"TableName":"cruddur-messages"})", &streams));
    for (const auto& s : streams["Streams"].GetArray()) {
      const std::string arn = s["StreamArn"].GetString();
      json::Document desc;
      EXPECT_TRUE(StreamsCall("DescribeStream", R"({"StreamArn":")" + arn + R"("})", &desc));
      for (const auto& shard : desc["StreamDescription"]["Shards"].GetArray()) {
        json::Document it;
        EXPECT_TRUE(StreamsCall("GetShardIterator",
                                R"({"StreamArn":")" + arn + R"(","ShardId":")" +
                                    shard["ShardId"].GetString() +
                                    R"(","ShardIteratorType":"TRIM_HORIZON"})",
                                &it));
        std::string iterator = it["ShardIterator"].GetString();
        for (;;) {
          json::Document page;
          EXPECT_TRUE(StreamsCall(
              "GetRecords", R"({"ShardIterator":")" + iterator + R"(","Limit":1000})", &page));
          const auto& records = page["Records"];
          for (const auto& r : records.GetArray()) out.push_back(json::ToString(r));
          if (records.Empty() || !page.HasMember("NextShardIterator")) break;
          iterator = page["NextShardIterator"].GetString();
        }
      }
    }
    return out;
  }

  // Runs the stream handler over every record in the stream.
  Status RunStreamHandler(MessageStreamHandler* handler) {
    std::vector<std::string> records = StreamRecords();
    return handler->HandleRecords(std::vector<std::string_view>(records.begin(), records.end()));
  }

  ManualClock& clock() { return clock_; }
  dynamo::DynamoClient* client() { return client_.get(); }
  MessageStore* store() { return store_.get(); }
  identity::SqliteUsersDirectory* users() { return users_.get(); }

 private:
  bool StreamsCall(std::string_view op, const std::string& body, json::Document* out) {
    Result<std::string> r = client_->Call(dynamo::Api::kStreams, op, body);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    if (!r.ok()) return false;
    return json::Parse(*r, out).ok();
  }

  ManualClock clock_;
  std::unique_ptr<dynamo::storage::Engine> engine_;
  std::unique_ptr<dynamo::DynamoService> service_;
  std::unique_ptr<dynamo::LocalDynamoClient> client_;
  std::unique_ptr<MessageStore> store_;
  std::string dir_;
  std::unique_ptr<identity::SqliteUsersDirectory> users_;
};

}  // namespace cruddur::messaging::msgtest
