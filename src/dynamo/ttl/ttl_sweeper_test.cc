// The TTL sweeper over an in-memory engine: which items count as expired, service deletions in
// the stream, batching, the re-check under the write lock, and the thread's start and stop.
#include "dynamo/ttl/ttl_sweeper.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "dynamo/api/table_meta.h"

namespace cruddur::dynamo::ttl {
namespace {

constexpr int64_t kNow = 1800000000;  // 2027-01-15

AttributeValue S(std::string v) { return AttributeValue::S(std::move(v)); }
AttributeValue N(int64_t v) { return AttributeValue::N(Decimal::FromInt(v)); }
AttributeValue Num(const char* text) { return AttributeValue::N(Decimal::Parse(text).value()); }

class TtlSweeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = storage::Engine::Open({.path = "/ttl_test/db", .in_memory = true});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }

  // A table keyed by pk (S); TTL on `ttl_attribute` unless it is empty.
  std::shared_ptr<const storage::TableDef> Create(const std::string& name,
                                                  const std::string& ttl_attribute) {
    storage::TableDef def{.name = name, .key = {{"pk", AttrType::kS}, std::nullopt}};
    def.stream_view = storage::StreamViewType::kNewAndOldImages;
    api::TableMeta meta;
    meta.ttl_attribute = ttl_attribute;
    def.meta = meta.Encode();
    EXPECT_TRUE(engine_->CreateTable(std::move(def)).ok());
    return engine_->GetTable(name);
  }
  void Put(const std::shared_ptr<const storage::TableDef>& t, Item item) {
    auto batch = engine_->BeginWrite({{t, item}});
    batch->Put(*t, std::move(item));
    Status st = batch->Commit();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  bool Exists(const std::shared_ptr<const storage::TableDef>& t, const std::string& pk) {
    auto got = engine_->Get(*t, {{"pk", S(pk)}});
    EXPECT_TRUE(got.ok());
    return got.ok() && got->has_value();
  }
  SweepStats Sweep(size_t batch_size = 100) {
    auto swept = SweepExpired(engine_.get(), kNow, batch_size, nullptr);
    EXPECT_TRUE(swept.ok()) << swept.status().ToString();
    return swept.ok() ? *swept : SweepStats{};
  }

  std::unique_ptr<storage::Engine> engine_;
};

TEST(IsExpiredTest, FollowsTheDocumentedRules) {
  EXPECT_TRUE(IsExpired({{"exp", N(kNow - 1)}}, "exp", kNow));
  EXPECT_TRUE(IsExpired({{"exp", Num("1799999999.5")}}, "exp", kNow));
  EXPECT_FALSE(IsExpired({{"exp", N(kNow)}}, "exp", kNow));
  EXPECT_FALSE(IsExpired({{"exp", N(kNow + 60)}}, "exp", kNow));
  EXPECT_FALSE(IsExpired({{"exp", S("1")}}, "exp", kNow));  // not a Number
  EXPECT_FALSE(IsExpired({{"other", N(1)}}, "exp", kNow));
  EXPECT_FALSE(IsExpired({{"exp", AttributeValue::M({{"exp", N(1)}})}}, "exp", kNow));
  // Milliseconds by mistake read as a date far in the future.
  EXPECT_FALSE(IsExpired({{"exp", N(kNow * 1000)}}, "exp", kNow));
  // More than five years in the past is ignored; just under five years is expired.
  EXPECT_TRUE(IsExpired({{"exp", N(kNow - 5 * 365 * 86400)}}, "exp", kNow));
  EXPECT_FALSE(IsExpired({{"exp", N(kNow - 6 * 365 * 86400)}}, "exp", kNow));
  EXPECT_FALSE(IsExpired({{"exp", N(-5)}}, "exp", kNow));
}

TEST_F(TtlSweeperTest, DeletesExpiredItemsOfTtlTablesAsServiceRemovals) {
  auto t = Create("ttl", "exp");
  auto plain = Create("plain", "");
  Put(t, {{"pk", S("old")}, {"exp", N(kNow - 10)}, {"v", S("x")}});
  Put(t, {{"pk", S("new")}, {"exp", N(kNow + 10)}});
  Put(t, {{"pk", S("text")}, {"exp", S("0")}});
  Put(t, {{"pk", S("none")}});
  Put(plain, {{"pk", S("old")}, {"exp", N(kNow - 10)}});

  SweepStats stats = Sweep();
  EXPECT_EQ(stats.tables, 1u);
  EXPECT_EQ(stats.scanned, 4u);
  EXPECT_EQ(stats.deleted, 1u);
  EXPECT_FALSE(Exists(t, "old"));
  EXPECT_TRUE(Exists(t, "new"));
  EXPECT_TRUE(Exists(t, "text"));
  EXPECT_TRUE(Exists(t, "none"));
  EXPECT_TRUE(Exists(plain, "old"));

  auto records = engine_->ReadStream(t->stream_id, 1, 100, 100, 1 << 20);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 5u);
  const storage::ChangeRecord& removal = records->back();
  EXPECT_EQ(removal.kind, storage::ChangeKind::kRemove);
  EXPECT_TRUE(removal.by_service);
  ASSERT_TRUE(removal.old_image.has_value());
  EXPECT_EQ(removal.old_image->at("v"), S("x"));
  EXPECT_EQ(Sweep().deleted, 0u);  // nothing left to do
}

TEST_F(TtlSweeperTest, DeletesInBatches) {
  auto t = Create("many", "exp");
  for (int i = 0; i < 250; ++i)
    Put(t, {{"pk", S("k" + std::to_string(i))}, {"exp", N(kNow - 100)}});
  SweepStats stats = Sweep(/*batch_size=*/7);
  EXPECT_EQ(stats.deleted, 250u);
  EXPECT_EQ(engine_->Stats(*t).item_count, 0);
}

TEST_F(TtlSweeperTest, StopsWhenAsked) {
  auto t = Create("stopped", "exp");
  for (int i = 0; i < 20; ++i) Put(t, {{"pk", S("k" + std::to_string(i))}, {"exp", N(kNow - 1)}});
  std::atomic<bool> stop{true};
  auto swept = SweepExpired(engine_.get(), kNow, 5, &stop);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->deleted, 0u);  // stopped before the first table
}

// The sweeper scans a snapshot, then deletes under the key's lock after re-reading: an item
// whose TTL moved to the future in between must survive.
TEST_F(TtlSweeperTest, KeepsAnItemWhoseTtlMovedAfterTheScan) {
  auto t = Create("moved", "exp");
  Item key = {{"pk", S("a")}};
  Put(t, {{"pk", S("a")}, {"exp", N(kNow - 1)}});
  auto writer = engine_->BeginWrite({{t, key}});  // the sweeper's delete waits for this lock
  SweepStats stats;
  std::thread sweeper([&] { stats = Sweep(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it scan and block
  writer->Put(*t, {{"pk", S("a")}, {"exp", N(kNow + 3600)}});
  ASSERT_TRUE(writer->Commit().ok());
  writer.reset();
  sweeper.join();
  EXPECT_EQ(stats.deleted, 0u);
  EXPECT_TRUE(Exists(t, "a"));
}

TEST_F(TtlSweeperTest, ThreadSweepsEveryPeriodAndStopsPromptly) {
  auto t = Create("threaded", "exp");
  Put(t, {{"pk", S("a")}, {"exp", N(kNow - 1)}});
  {
    TtlSweeper sweeper(engine_.get(), {.period = std::chrono::milliseconds(10),
                                       .batch_size = 100,
                                       .now_micros = [] { return kNow * 1000000; }});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sweeper.passes() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GE(sweeper.passes(), 2u);
  }
  EXPECT_FALSE(Exists(t, "a"));

  auto started = std::chrono::steady_clock::now();
  {
    TtlSweeper idle(engine_.get(), {.period = std::chrono::hours(1)});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace cruddur::dynamo::ttl
