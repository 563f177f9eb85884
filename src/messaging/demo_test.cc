#include "messaging/demo.h"

#include <gtest/gtest.h>

#include <set>

#include "messaging/test_env.h"

namespace cruddur::messaging {
namespace {

using msgtest::MessagingEnv;

TEST(DemoTest, SeedsOneHundredAndFourMessagesEndingNowOnce) {
  MessagingEnv env;
  const std::int64_t now = env.clock().Now();
  auto seeded = SeedDemoConversation(env.client(), "cruddur-messages", env.users(), now);
  ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  EXPECT_EQ(seeded->messages_written, kDemoMessages);

  std::vector<Message> all;
  std::string cursor;
  do {
    auto page = env.store()->ListMessages(seeded->message_group_uuid, cursor, kMaxPageSize);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    all.insert(all.begin(), page->items.begin(), page->items.end());
    cursor = page->next_cursor.value_or("");
  } while (!cursor.empty());
  ASSERT_EQ(all.size(), static_cast<size_t>(kDemoMessages));
  EXPECT_EQ(all.front().handle, "andrewbrown");
  EXPECT_EQ(all[1].handle, "bayko");
  EXPECT_EQ(all.back().created_at, FormatTimestamp(now));  // the last one now, not later
  for (size_t i = 1; i < all.size(); ++i) {
    auto a = ParseTimestamp(all[i - 1].created_at);
    auto b = ParseTimestamp(all[i].created_at);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*b - *a, 60 * 1000000LL) << i;  // one minute apart
  }
  std::set<std::string> texts;
  for (const Message& m : all) texts.insert(m.message);
  EXPECT_EQ(texts.size(), all.size());

  // A second seeding finds the conversation and adds nothing.
  auto again = SeedDemoConversation(env.client(), "cruddur-messages", env.users(), now);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->messages_written, 0);
  EXPECT_EQ(again->message_group_uuid, seeded->message_group_uuid);
}

TEST(DemoTest, NeedsTheDemoUsers) {
  MessagingEnv env;
  ASSERT_TRUE(env.users()->Drop().ok());
  ASSERT_TRUE(env.users()->Migrate().ok());
  auto seeded = SeedDemoConversation(env.client(), "cruddur-messages", env.users(), 0);
  EXPECT_EQ(seeded.status().code(), ErrorCode::kResourceNotFound);
}

}  // namespace
}  // namespace cruddur::messaging
