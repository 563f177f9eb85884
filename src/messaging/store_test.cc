#include "messaging/store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "messaging/ddb_json.h"
#include "messaging/test_env.h"

namespace cruddur::messaging {
namespace {

using msgtest::MessagingEnv;

constexpr std::int64_t kMinute = 60LL * 1000000;

class StoreTest : public ::testing::Test {
 protected:
  StoreTest()
      : andrew_(env_.Profile("andrewbrown")),
        bayko_(env_.Profile("bayko")),
        londo_(env_.Profile("londo")) {}

  // Every item of the table (Scan), as parsed JSON text per item.
  std::vector<std::string> ScanPk(std::string_view prefix) {
    Result<std::string> r =
        env_.client()->Call(dynamo::Api::kDynamoDB, "Scan", R"({"TableName":"cruddur-messages"})");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    json::Document doc;
    EXPECT_TRUE(json::Parse(*r, &doc).ok());
    std::vector<std::string> out;
    for (const auto& item : doc["Items"].GetArray()) {
      if (ddb::GetS(item, "pk")->starts_with(prefix)) out.push_back(json::ToString(item));
    }
    return out;
  }

  MessagingEnv env_;
  identity::ShortProfile andrew_, bayko_, londo_;
};

TEST_F(StoreTest, CreateTableIsTheSeedsSchemaWithAStream) {
  Result<std::string> r = env_.client()->Call(dynamo::Api::kDynamoDB, "DescribeTable",
                                              R"({"TableName":"cruddur-messages"})");
  ASSERT_TRUE(r.ok());
  json::Document doc;
  ASSERT_TRUE(json::Parse(*r, &doc).ok());
  const auto& t = doc["Table"];
  EXPECT_EQ(std::string(t["KeySchema"][0]["AttributeName"].GetString()), "pk");
  EXPECT_EQ(std::string(t["KeySchema"][1]["AttributeName"].GetString()), "sk");
  const auto& gsi = t["GlobalSecondaryIndexes"][0];
  EXPECT_EQ(std::string(gsi["IndexName"].GetString()), "message-group-sk-index");
  EXPECT_EQ(std::string(gsi["KeySchema"][0]["AttributeName"].GetString()), "message_group_uuid");
  EXPECT_EQ(std::string(gsi["Projection"]["ProjectionType"].GetString()), "ALL");
  EXPECT_EQ(std::string(t["StreamSpecification"]["StreamViewType"].GetString()), "NEW_IMAGE");
  EXPECT_EQ(env_.store()->CreateTable().code(), ErrorCode::kResourceInUse);
}

TEST_F(StoreTest, NewConversationWritesTheSeedsRowsInOneTransaction) {
  auto posted = env_.store()->CreateMessageGroup(andrew_, bayko_, "hello bayko");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_TRUE(posted->created_group);
  const std::string g = posted->message_group_uuid;
  EXPECT_EQ(posted->message.created_at, "2025-12-31T23:00:00.000000+00:00");
  EXPECT_EQ(posted->message.sk, posted->message.created_at + "#" + posted->message.uuid);

  // Each owner's group row names the other participant and the last message.
  auto mine = env_.store()->ListMessageGroups(andrew_.uuid);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_EQ(mine->items[0].uuid, g);
  EXPECT_EQ(mine->items[0].user_uuid, bayko_.uuid);
  EXPECT_EQ(mine->items[0].handle, "bayko");
  EXPECT_EQ(mine->items[0].display_name, "Andrew Bayko");
  EXPECT_EQ(mine->items[0].message, "hello bayko");
  EXPECT_EQ(mine->items[0].created_at, posted->message.created_at);
  auto theirs = env_.store()->ListMessageGroups(bayko_.uuid);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->items.size(), 1u);
  EXPECT_EQ(theirs->items[0].handle, "andrewbrown");

  // The message row has the seed's attributes, no message_group_uuid.
  auto rows = ScanPk("MSG#");
  ASSERT_EQ(rows.size(), 1u);
  json::Document msg;
  ASSERT_TRUE(json::Parse(rows[0], &msg).ok());
  for (const char* name :
       {"pk", "sk", "message", "message_uuid", "user_uuid", "user_display_name", "user_handle"}) {
    EXPECT_TRUE(ddb::GetS(msg, name).has_value()) << name;
  }
  EXPECT_FALSE(msg.HasMember("message_group_uuid"));
  EXPECT_EQ(*ddb::GetS(msg, "user_handle"), "andrewbrown");

  // The GSI holds the two group rows only, as the seed's Lambda expects.
  Result<std::string> q =
      env_.client()->Call(dynamo::Api::kDynamoDB, "Query",
                          R"({"TableName":"cruddur-messages","IndexName":"message-group-sk-index",)"
                          R"("KeyConditionExpression":"message_group_uuid = :g",)"
                          R"("ExpressionAttributeValues":{":g":{"S":")" +
                              g + R"("}}})");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  json::Document qd;
  ASSERT_TRUE(json::Parse(*q, &qd).ok());
  ASSERT_EQ(qd["Count"].GetInt(), 2);
  for (const auto& item : qd["Items"].GetArray()) {
    EXPECT_TRUE(ddb::GetS(item, "pk")->starts_with("GRP#"));
  }
  EXPECT_EQ(ScanPk("PAIR#").size(), 1u);
  EXPECT_EQ(ScanPk("MBR#").size(), 2u);
}

TEST_F(StoreTest, TheSeeds104MessageConversationPagesCompletely) {
  auto first = env_.store()->CreateMessageGroup(andrew_, bayko_, "message 0");
  ASSERT_TRUE(first.ok());
  const std::string g = first->message_group_uuid;
  for (int i = 1; i < 104; ++i) {
    env_.clock().Advance(kMinute);
    auto posted =
        env_.store()->CreateMessage(g, i % 2 ? bayko_ : andrew_, "message " + std::to_string(i));
    ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  }
  std::vector<std::string> seen;  // newest page first, each page oldest to newest
  std::string cursor;
  std::vector<std::size_t> sizes;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = env_.store()->ListMessages(g, cursor);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    sizes.push_back(page->items.size());
    for (std::size_t i = 1; i < page->items.size(); ++i) {
      EXPECT_LT(page->items[i - 1].created_at, page->items[i].created_at);
    }
    std::vector<std::string> texts;
    for (const auto& m : page->items) texts.push_back(m.message);
    seen.insert(seen.begin(), texts.begin(), texts.end());
    if (!page->next_cursor) break;
    cursor = *page->next_cursor;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{20, 20, 20, 20, 20, 4}));
  ASSERT_EQ(seen.size(), 104u);
  for (int i = 0; i < 104; ++i) EXPECT_EQ(seen[i], "message " + std::to_string(i));
  // The seed's Limit 20 without a cursor could never show message 0.
  auto newest = env_.store()->ListMessages(g);
  EXPECT_EQ(newest->items.front().message, "message 84");
  EXPECT_EQ(newest->items.back().message, "message 103");
}

TEST_F(StoreTest, GroupsPageNewestFirstWithACursor) {
  identity::ShortProfile others[] = {bayko_, londo_, env_.Profile("altbrown")};
  for (const auto& other : others) {
    env_.clock().Advance(kMinute);
    ASSERT_TRUE(env_.store()->CreateMessageGroup(andrew_, other, "hi " + other.handle).ok());
  }
  auto page1 = env_.store()->ListMessageGroups(andrew_.uuid, "", 2);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->items.size(), 2u);
  EXPECT_EQ(page1->items[0].handle, "altbrown");
  EXPECT_EQ(page1->items[1].handle, "londo");
  ASSERT_TRUE(page1->next_cursor);
  auto page2 = env_.store()->ListMessageGroups(andrew_.uuid, *page1->next_cursor, 2);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->items.size(), 1u);
  EXPECT_EQ(page2->items[0].handle, "bayko");
  EXPECT_FALSE(page2->next_cursor);
  EXPECT_EQ(env_.store()->ListMessageGroups(andrew_.uuid, "not-a-cursor").status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(env_.store()->ListMessages(page1->items[0].uuid, "bm90IGFuIHNr").status().code(),
            ErrorCode::kValidation);
}

// The seed's list_message_groups and list_messages used begins_with(sk, <current year>): on
// 1 January every inbox and every conversation was empty.
TEST_F(StoreTest, AYearBoundaryEmptiesNothing) {
  auto posted = env_.store()->CreateMessageGroup(andrew_, bayko_, "last words of 2025");
  ASSERT_TRUE(posted.ok());
  env_.clock().Advance(90 * kMinute);  // 2026-01-01T00:30Z
  auto groups = env_.store()->ListMessageGroups(bayko_.uuid);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->items.size(), 1u);
  EXPECT_TRUE(groups->items[0].created_at.starts_with("2025-"));
  ASSERT_TRUE(env_.store()->CreateMessage(posted->message_group_uuid, bayko_, "happy 2026").ok());
  auto messages = env_.store()->ListMessages(posted->message_group_uuid);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->items.size(), 2u);
  EXPECT_EQ(messages->items[0].message, "last words of 2025");
  EXPECT_EQ(messages->items[1].message, "happy 2026");
  EXPECT_TRUE(messages->items[1].created_at.starts_with("2026-01-01T00:30:00.000000+00:00"));
}

// The seed's sk was created_at alone: a second message in the same instant overwrote the first.
TEST_F(StoreTest, TwoMessagesInTheSameMicrosecondAreBothKept) {
  auto posted = env_.store()->CreateMessageGroup(andrew_, bayko_, "one");
  ASSERT_TRUE(posted.ok());
  ASSERT_TRUE(env_.store()->CreateMessage(posted->message_group_uuid, andrew_, "two").ok());
  ASSERT_TRUE(env_.store()->CreateMessage(posted->message_group_uuid, bayko_, "three").ok());
  auto messages = env_.store()->ListMessages(posted->message_group_uuid);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->items.size(), 3u);
  std::set<std::string> texts;
  for (const auto& m : messages->items) {
    EXPECT_EQ(m.created_at, "2025-12-31T23:00:00.000000+00:00");
    texts.insert(m.message);
  }
  EXPECT_EQ(texts, (std::set<std::string>{"one", "two", "three"}));
}

// The seed's create_message_group always made a new group: starting twice made two.
TEST_F(StoreTest, StartingAConversationAgainPostsIntoTheExistingOne) {
  auto first = env_.store()->CreateMessageGroup(andrew_, bayko_, "hi");
  ASSERT_TRUE(first.ok());
  env_.clock().Advance(kMinute);
  auto again = env_.store()->CreateMessageGroup(bayko_, andrew_, "hi back");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created_group);
  EXPECT_EQ(again->message_group_uuid, first->message_group_uuid);
  EXPECT_EQ(env_.store()->ListMessages(first->message_group_uuid)->items.size(), 2u);
  EXPECT_EQ(env_.store()->ListMessageGroups(andrew_.uuid)->items.size(), 1u);
  auto found = env_.store()->FindGroup(bayko_.uuid, andrew_.uuid);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, first->message_group_uuid);
  EXPECT_EQ(*env_.store()->FindGroup(bayko_.uuid, londo_.uuid), std::nullopt);
}

TEST_F(StoreTest, TwoPeopleStartingAtOnceMakeOneGroup) {
  constexpr int kThreads = 8;
  std::vector<std::string> groups(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto posted = t % 2 ? env_.store()->CreateMessageGroup(andrew_, bayko_, "from andrew")
                          : env_.store()->CreateMessageGroup(bayko_, andrew_, "from bayko");
      ASSERT_TRUE(posted.ok()) << posted.status().ToString();
      groups[t] = posted->message_group_uuid;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::set<std::string>(groups.begin(), groups.end()).size(), 1u);
  EXPECT_EQ(ScanPk("PAIR#").size(), 1u);
  EXPECT_EQ(ScanPk("GRP#").size(), 2u);
  EXPECT_EQ(ScanPk("MSG#").size(), static_cast<std::size_t>(kThreads));
}

TEST_F(StoreTest, OnlyTheTwoParticipantsMayReadOrPost) {
  auto posted = env_.store()->CreateMessageGroup(andrew_, bayko_, "private");
  ASSERT_TRUE(posted.ok());
  const std::string g = posted->message_group_uuid;
  EXPECT_TRUE(env_.store()->CheckMember(g, andrew_.uuid).ok());
  EXPECT_TRUE(env_.store()->CheckMember(g, bayko_.uuid).ok());
  EXPECT_EQ(env_.store()->CheckMember(g, londo_.uuid).code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(env_.store()->CreateMessage(g, londo_, "let me in").status().code(),
            ErrorCode::kAccessDenied);
  EXPECT_EQ(env_.store()->ListMessages(g)->items.size(), 1u);
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  EXPECT_EQ(env_.store()->CheckMember(unknown, andrew_.uuid).code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(env_.store()->CreateMessage(unknown, andrew_, "x").status().code(),
            ErrorCode::kResourceNotFound);
  EXPECT_EQ(env_.store()->CreateMessage("../etc", andrew_, "x").status().code(),
            ErrorCode::kResourceNotFound);
  EXPECT_EQ(env_.store()->ListMessages("GRP#x").status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(StoreTest, MessageTextChecks) {
  auto store = env_.store();
  EXPECT_EQ(store->CreateMessageGroup(andrew_, bayko_, "").status().message(), "message_blank");
  EXPECT_EQ(store->CreateMessageGroup(andrew_, bayko_, " \n\t").status().message(),
            "message_blank");
  EXPECT_EQ(store->CreateMessageGroup(andrew_, bayko_, std::string(1025, 'x')).status().message(),
            "message_exceed_max_chars");
  EXPECT_EQ(store->CreateMessageGroup(andrew_, bayko_, "\xff").status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(store->CreateMessageGroup(andrew_, andrew_, "me").status().message(),
            "cannot_message_self");
  // 1024 code points of three bytes each is within the limit (the limit is in characters).
  std::string euros;
  for (int i = 0; i < 1024; ++i) euros += "\xe2\x82\xac";
  EXPECT_TRUE(store->CreateMessageGroup(andrew_, bayko_, euros).ok());
}

TEST(Utf8Test, LengthAndValidity) {
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\xc3\xa9\xf0\x9f\x98\x80"), 2u);
  EXPECT_EQ(Utf8Length("\xc0\xaf"), std::nullopt);          // overlong
  EXPECT_EQ(Utf8Length("\xed\xa0\x80"), std::nullopt);      // surrogate
  EXPECT_EQ(Utf8Length("\xf4\x90\x80\x80"), std::nullopt);  // past U+10FFFF
  EXPECT_EQ(Utf8Length("\xe2\x82"), std::nullopt);          // truncated
}

}  // namespace
}  // namespace cruddur::messaging
