#include "messaging/service.h"

#include <gtest/gtest.h>

#include "messaging/test_env.h"

namespace cruddur::messaging {
namespace {

using msgtest::MessagingEnv;

// Counts the client's calls, to show cache hits do not touch the table.
class CountingClient : public dynamo::DynamoClient {
 public:
  explicit CountingClient(dynamo::DynamoClient* inner) : inner_(inner) {}
  Result<std::string> Call(dynamo::Api api, std::string_view op, std::string_view req) override {
    ++calls;
    return inner_->Call(api, op, req);
  }
  std::string region() const override { return inner_->region(); }
  std::atomic<int> calls{0};

 private:
  dynamo::DynamoClient* inner_;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest()
      : counting_(env_.client()),
        store_(&counting_, MessageStoreOptions{"cruddur-messages", env_.clock().AsClock()}),
        service_(&store_, env_.users()),
        handler_(env_.client(), "cruddur-messages",
                 [this](const std::string& g, const std::vector<std::string>& owners) {
                   service_.OnGroupChanged(g, owners);
                 }),
        andrew_(env_.Profile("andrewbrown")),
        bayko_(env_.Profile("bayko")),
        londo_(env_.Profile("londo")) {}

  MessagingEnv env_;
  CountingClient counting_;
  MessageStore store_;
  MessagingService service_;
  MessageStreamHandler handler_;
  identity::ShortProfile andrew_, bayko_, londo_;
};

TEST_F(ServiceTest, RepeatedInboxReadsHitTheCacheUntilTheStreamInvalidates) {
  auto posted = service_.StartConversation(andrew_, "bayko", "hi");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  ASSERT_TRUE(service_.MessageGroups(andrew_.uuid, "").ok());
  const int calls = counting_.calls;
  for (int i = 0; i < 10; ++i) {
    auto page = service_.MessageGroups(andrew_.uuid, "");
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->items[0].message, "hi");
  }
  EXPECT_EQ(counting_.calls, calls);  // ten hits, no table reads
  EXPECT_EQ(service_.cache_stats().groups.hits, 10u);
  EXPECT_EQ(service_.cache_stats().groups.misses, 1u);

  env_.clock().Advance(1000000);
  ASSERT_TRUE(service_.PostToGroup(bayko_, posted->message_group_uuid, "hello again").ok());
  ASSERT_TRUE(env_.RunStreamHandler(&handler_).ok());
  auto page = service_.MessageGroups(andrew_.uuid, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items[0].message, "hello again");
  EXPECT_EQ(service_.cache_stats().groups.misses, 2u);
}

TEST_F(ServiceTest, MessagesPageIsCachedWithItsMembersAndInvalidatedByWrites) {
  auto posted = service_.StartConversation(andrew_, "bayko", "one");
  ASSERT_TRUE(posted.ok());
  const std::string g = posted->message_group_uuid;
  ASSERT_EQ(service_.Messages(andrew_.uuid, g, "")->items.size(), 1u);
  const int calls = counting_.calls;
  ASSERT_EQ(service_.Messages(bayko_.uuid, g, "")->items.size(), 1u);
  // A non-member is refused from the cached members, without a table read.
  EXPECT_EQ(service_.Messages(londo_.uuid, g, "").status().code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(counting_.calls, calls);
  // This process's own write invalidates at once (before the stream handler runs).
  ASSERT_TRUE(service_.PostToGroup(bayko_, g, "two").ok());
  EXPECT_EQ(service_.Messages(andrew_.uuid, g, "")->items.size(), 2u);
  EXPECT_EQ(service_.Messages(londo_.uuid, g, "").status().code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(
      service_.Messages(andrew_.uuid, "00000000-0000-4000-8000-000000000000", "").status().code(),
      ErrorCode::kResourceNotFound);
}

TEST_F(ServiceTest, StartConversationChecks) {
  EXPECT_EQ(service_.StartConversation(andrew_, "nobody", "hi").status().code(),
            ErrorCode::kResourceNotFound);
  EXPECT_EQ(service_.StartConversation(andrew_, "andrewbrown", "hi").status().message(),
            "cannot_message_self");
  auto first = service_.StartConversation(andrew_, "bayko", "hi");
  auto second = service_.StartConversation(bayko_, "andrewbrown", "hi");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->message_group_uuid, second->message_group_uuid);
}

TEST_F(ServiceTest, CachingOff) {
  MessagingService uncached(&store_, env_.users(), MessagingServiceOptions{0});
  ASSERT_TRUE(uncached.StartConversation(andrew_, "bayko", "hi").ok());
  ASSERT_TRUE(uncached.MessageGroups(andrew_.uuid, "").ok());
  ASSERT_TRUE(uncached.MessageGroups(andrew_.uuid, "").ok());
  EXPECT_EQ(uncached.cache_stats().groups.hits + uncached.cache_stats().groups.misses, 0u);
}

}  // namespace
}  // namespace cruddur::messaging
