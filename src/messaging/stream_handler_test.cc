#include "messaging/stream_handler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "messaging/test_env.h"

namespace cruddur::messaging {
namespace {

using msgtest::MessagingEnv;

constexpr std::int64_t kMinute = 60LL * 1000000;

// Fails TransactWriteItems that mention `poison` (a group uuid), passes everything else on.
class FailingClient : public dynamo::DynamoClient {
 public:
  FailingClient(dynamo::DynamoClient* inner, std::string poison)
      : inner_(inner), poison_(std::move(poison)) {}
  Result<std::string> Call(dynamo::Api api, std::string_view op, std::string_view req) override {
    if (op == "TransactWriteItems" && req.find(poison_) != std::string_view::npos) {
      return IoError("injected failure");
    }
    return inner_->Call(api, op, req);
  }
  std::string region() const override { return inner_->region(); }

 private:
  dynamo::DynamoClient* inner_;
  std::string poison_;
};

class StreamHandlerTest : public ::testing::Test {
 protected:
  StreamHandlerTest()
      : andrew_(env_.Profile("andrewbrown")),
        bayko_(env_.Profile("bayko")),
        londo_(env_.Profile("londo")),
        handler_(env_.client(), "cruddur-messages",
                 [this](const std::string& group, const std::vector<std::string>& owners) {
                   std::lock_guard<std::mutex> lock(mu_);
                   changed_[group] = owners;
                 }) {}

  // The owner's group row for the group (there must be exactly one).
  MessageGroup Row(const identity::ShortProfile& owner, const std::string& group) {
    auto page = env_.store()->ListMessageGroups(owner.uuid, "", kMaxPageSize);
    EXPECT_TRUE(page.ok());
    std::vector<MessageGroup> rows;
    for (const auto& g : page->items) {
      if (g.uuid == group) rows.push_back(g);
    }
    EXPECT_EQ(rows.size(), 1u) << "group rows of " << owner.handle;
    return rows.empty() ? MessageGroup{} : rows[0];
  }

  MessagingEnv env_;
  identity::ShortProfile andrew_, bayko_, londo_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> changed_;
  MessageStreamHandler handler_;
};

TEST_F(StreamHandlerTest, ManyConcurrentSendersEndOnTheNewestMessage) {
  auto first = env_.store()->CreateMessageGroup(andrew_, bayko_, "start");
  ASSERT_TRUE(first.ok());
  const std::string g = first->message_group_uuid;
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        env_.clock().Advance(1);  // some land in the same microsecond, some do not
        auto posted = env_.store()->CreateMessage(
            g, t % 2 ? andrew_ : bayko_, "t" + std::to_string(t) + "-" + std::to_string(i));
        ASSERT_TRUE(posted.ok()) << posted.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();

  // The newest message is the last in sk order.
  auto newest = env_.store()->ListMessages(g, "", 1);
  ASSERT_TRUE(newest.ok());
  const Message& last = newest->items.back();

  // Several handlers at once over the stream's records in different orders (as retries and
  // parallel shards would), each handling the whole batch.
  std::vector<std::string> records = env_.StreamRecords();
  ASSERT_EQ(records.size(), 6u + kThreads * kEach);  // 6 rows of the new group + messages
  std::vector<std::thread> handlers;
  std::atomic<int> failures{0};
  for (int h = 0; h < 4; ++h) {
    handlers.emplace_back([&, h] {
      std::vector<std::string> mine = records;
      std::shuffle(mine.begin(), mine.end(), std::mt19937(h));
      // One record per call, so each call moves the rows (no folding within a batch).
      for (const auto& r : mine) {
        if (!handler_.HandleRecords({r}).ok()) ++failures;
      }
    });
  }
  for (auto& th : handlers) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto* owner : {&andrew_, &bayko_}) {
    MessageGroup row = Row(*owner, g);
    EXPECT_EQ(row.sk, last.sk);
    EXPECT_EQ(row.message, last.message);
    EXPECT_EQ(row.created_at, last.created_at);
  }
  EXPECT_EQ(Row(andrew_, g).handle, "bayko");
  EXPECT_EQ(Row(bayko_, g).handle, "andrewbrown");
}

// The seed's Lambda read event['Records'][0] only: the rest of a batch was lost.
TEST_F(StreamHandlerTest, EveryRecordOfABatchIsHandled) {
  auto ab = env_.store()->CreateMessageGroup(andrew_, bayko_, "ab");
  auto al = env_.store()->CreateMessageGroup(andrew_, londo_, "al");
  ASSERT_TRUE(ab.ok() && al.ok());
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(ab->message_group_uuid, bayko_, "ab 2").ok());
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(al->message_group_uuid, londo_, "al 2").ok());
  ASSERT_TRUE(env_.RunStreamHandler(&handler_).ok());
  EXPECT_EQ(Row(andrew_, ab->message_group_uuid).message, "ab 2");
  EXPECT_EQ(Row(bayko_, ab->message_group_uuid).message, "ab 2");
  EXPECT_EQ(Row(andrew_, al->message_group_uuid).message, "al 2");
  EXPECT_EQ(Row(londo_, al->message_group_uuid).message, "al 2");
  auto inbox = env_.store()->ListMessageGroups(andrew_.uuid);
  ASSERT_EQ(inbox->items.size(), 2u);
  EXPECT_EQ(inbox->items[0].handle, "londo");  // newest first
  EXPECT_EQ(changed_.size(), 2u);
  EXPECT_EQ(changed_[ab->message_group_uuid].size(), 2u);
}

// The seed's Lambda rewrote the group rows to whatever record it was given: a retried or late
// record moved the conversation back to an older message.
TEST_F(StreamHandlerTest, RetriedAndOutOfOrderRecordsNeverMoveAGroupBack) {
  auto g = env_.store()->CreateMessageGroup(andrew_, bayko_, "one");
  ASSERT_TRUE(g.ok());
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(g->message_group_uuid, bayko_, "two").ok());
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(g->message_group_uuid, andrew_, "three").ok());
  std::vector<std::string> records = env_.StreamRecords();
  std::vector<std::string_view> views(records.begin(), records.end());
  ASSERT_TRUE(handler_.HandleRecords(views).ok());
  EXPECT_EQ(Row(andrew_, g->message_group_uuid).message, "three");
  // Each record again, alone, newest first (a retry and a late delivery).
  std::reverse(views.begin(), views.end());
  for (auto v : views) ASSERT_TRUE(handler_.HandleRecords({v}).ok());
  EXPECT_EQ(Row(andrew_, g->message_group_uuid).message, "three");
  EXPECT_EQ(Row(bayko_, g->message_group_uuid).message, "three");
}

TEST_F(StreamHandlerTest, IgnoresRemoveModifyAndOtherRows) {
  auto g = env_.store()->CreateMessageGroup(andrew_, bayko_, "one");
  ASSERT_TRUE(g.ok());
  const std::string pk = "MSG#" + g->message_group_uuid;
  const std::string later = "2030-01-01T00:00:00.000000+00:00#00000000-0000-4000-8000-000000000000";
  auto record = [&](const char* event, const std::string& p) {
    return std::string(R"({"eventName":")") + event + R"(","dynamodb":{"Keys":{"pk":{"S":")" + p +
           R"("},"sk":{"S":")" + later + R"("}},"NewImage":{"pk":{"S":")" + p +
           R"("},"sk":{"S":")" + later + R"("},"message":{"S":"from the future"}}}})";
  };
  std::vector<std::string> records = {record("REMOVE", pk), record("MODIFY", pk),
                                      record("INSERT", "GRP#" + andrew_.uuid)};
  ASSERT_TRUE(
      handler_.HandleRecords(std::vector<std::string_view>(records.begin(), records.end())).ok());
  EXPECT_EQ(Row(andrew_, g->message_group_uuid).message, "one");
  // The same INSERT of a message row does move it (the record need not exist in the table).
  ASSERT_TRUE(handler_.HandleRecords({record("INSERT", pk)}).ok());
  EXPECT_EQ(Row(andrew_, g->message_group_uuid).message, "from the future");
  // A message of a group this store did not write (no member rows) is skipped.
  ASSERT_TRUE(
      handler_.HandleRecords({record("INSERT", "MSG#11111111-1111-4111-8111-111111111111")}).ok());
  EXPECT_EQ(handler_.HandleRecords({"[]"}).code(), ErrorCode::kValidation);
  EXPECT_EQ(handler_.HandleRecords({"{not json"}).code(), ErrorCode::kSerialization);
}

TEST_F(StreamHandlerTest, LambdaEventEntryPoint) {
  auto g = env_.store()->CreateMessageGroup(andrew_, bayko_, "one");
  ASSERT_TRUE(g.ok());
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(g->message_group_uuid, bayko_, "two").ok());
  std::string event = R"({"Records":[)";
  for (const auto& r : env_.StreamRecords()) event += r + ",";
  event.back() = ']';
  event += "}";
  ASSERT_TRUE(handler_.HandleLambdaEvent(event).ok());
  EXPECT_EQ(Row(bayko_, g->message_group_uuid).message, "two");
  EXPECT_EQ(handler_.HandleLambdaEvent(R"({"NoRecords":1})").code(), ErrorCode::kValidation);
}

TEST_F(StreamHandlerTest, AFailingGroupFailsTheBatchButOthersAreHandled) {
  auto ab = env_.store()->CreateMessageGroup(andrew_, bayko_, "ab");
  auto al = env_.store()->CreateMessageGroup(andrew_, londo_, "al");
  ASSERT_TRUE(ab.ok() && al.ok());
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(ab->message_group_uuid, bayko_, "ab 2").ok());
  ASSERT_TRUE(env_.store()->CreateMessage(al->message_group_uuid, londo_, "al 2").ok());
  FailingClient failing(env_.client(), ab->message_group_uuid);
  MessageStreamHandler handler(&failing, "cruddur-messages");
  std::vector<std::string> records = env_.StreamRecords();
  Status st = handler.HandleRecords(std::vector<std::string_view>(records.begin(), records.end()));
  EXPECT_EQ(st.code(), ErrorCode::kIo);  // the runner retries the batch
  EXPECT_EQ(Row(andrew_, ab->message_group_uuid).message, "ab");
  EXPECT_EQ(Row(andrew_, al->message_group_uuid).message, "al 2");
  // The retry, with the engine healthy again, finishes the job.
  ASSERT_TRUE(env_.RunStreamHandler(&handler_).ok());
  EXPECT_EQ(Row(andrew_, ab->message_group_uuid).message, "ab 2");
}

// The live-update callback: every message of the batch, oldest first, and each owner's row as
// it now stands; a replayed older record reports its message but no row.
TEST_F(StreamHandlerTest, ReportsEveryMessageAndTheRowsItMoved) {
  std::vector<GroupUpdate> updates;
  MessageStreamHandler handler(env_.client(), "cruddur-messages", {},
                               [&](const GroupUpdate& u) { updates.push_back(u); });
  auto first = env_.store()->CreateMessageGroup(andrew_, bayko_, "one");
  ASSERT_TRUE(first.ok());
  const std::string g = first->message_group_uuid;
  env_.clock().Advance(kMinute);
  ASSERT_TRUE(env_.store()->CreateMessage(g, bayko_, "two").ok());
  std::vector<std::string> records = env_.StreamRecords();
  ASSERT_TRUE(handler.HandleRecords({records.begin(), records.end()}).ok());
  ASSERT_EQ(updates.size(), 1u);
  const GroupUpdate& u = updates[0];
  EXPECT_EQ(u.group_uuid, g);
  ASSERT_EQ(u.messages.size(), 2u);
  EXPECT_EQ(u.messages[0].message, "one");
  EXPECT_EQ(u.messages[0].handle, "andrewbrown");
  EXPECT_EQ(u.messages[1].message, "two");
  EXPECT_EQ(u.messages[1].handle, "bayko");
  ASSERT_EQ(u.rows.size(), 2u);
  for (const auto& [owner, row] : u.rows) {
    const identity::ShortProfile& who = owner == andrew_.uuid ? andrew_ : bayko_;
    const MessageGroup stored = Row(who, g);
    EXPECT_EQ(row.uuid, stored.uuid);
    EXPECT_EQ(row.handle, stored.handle);
    EXPECT_EQ(row.display_name, stored.display_name);
    EXPECT_EQ(row.message, "two");
    EXPECT_EQ(row.created_at, stored.created_at);
  }

  // Only the first record again (a retry): its message, and no row moves back.
  std::string older;
  for (const std::string& r : records) {
    if (r.find("\"one\"") != std::string::npos && r.find("MSG#") != std::string::npos) older = r;
  }
  ASSERT_FALSE(older.empty());
  ASSERT_TRUE(handler.HandleRecords({older}).ok());
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].messages.size(), 1u);
  EXPECT_TRUE(updates[1].rows.empty());
}

}  // namespace
}  // namespace cruddur::messaging
