#include "messaging/read_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cruddur::messaging {
namespace {

TEST(LruCacheTest, MissFillHit) {
  LruCache<int> cache(4);
  auto miss = cache.Get("a");
  EXPECT_FALSE(miss.value);
  EXPECT_TRUE(cache.Fill("a", miss.stamp, 1));
  auto hit = cache.Get("a");
  ASSERT_TRUE(hit.value);
  EXPECT_EQ(*hit.value, 1);
  CacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
}

TEST(LruCacheTest, InvalidationDuringALoadWins) {
  LruCache<int> cache(4);
  auto miss = cache.Get("a");                    // a reader starts loading
  cache.Invalidate("a");                         // a write lands meanwhile
  EXPECT_FALSE(cache.Fill("a", miss.stamp, 1));  // the reader's page is stale: not stored
  EXPECT_FALSE(cache.Get("a").value);
  auto again = cache.Get("a");
  EXPECT_TRUE(cache.Fill("a", again.stamp, 2));
  cache.Invalidate("a");
  EXPECT_FALSE(cache.Get("a").value);
  EXPECT_EQ(cache.stats().invalidations, 2u);
}

TEST(LruCacheTest, EvictsLeastRecentlyUsedAndStaleTicketsAfterEviction) {
  LruCache<int> cache(2);
  auto a = cache.Get("a");
  ASSERT_TRUE(cache.Fill("a", a.stamp, 1));
  auto b = cache.Get("b");
  ASSERT_TRUE(cache.Fill("b", b.stamp, 2));
  EXPECT_TRUE(cache.Get("a").value);  // a is now the most recent
  auto c = cache.Get("c");            // evicts b
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_FALSE(cache.Get("b").value);         // b comes back as a placeholder (evicting a)
  EXPECT_FALSE(cache.Fill("b", b.stamp, 3));  // an old ticket cannot fill the new entry
  EXPECT_TRUE(cache.Fill("c", c.stamp, 4));
}

TEST(LruCacheTest, ConcurrentUse) {
  LruCache<int> cache(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = std::to_string((i * 7 + t) % 100);
        auto got = cache.Get(key);
        if (!got.value) cache.Fill(key, got.stamp, i);
        if (i % 13 == 0) cache.Invalidate(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  CacheStats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, 8000u);
  EXPECT_LE(s.entries, 64u);
}

}  // namespace
}  // namespace cruddur::messaging
