// Secondary-index lifecycle on a live table (Engine::AddGlobalIndex / RemoveGlobalIndex, the
// background backfill and cleanup), DeleteTable racing with writers, and item-collection sizes
// of tables with local secondary indexes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::storage {
namespace {

using std::chrono::milliseconds;

AttributeValue S(std::string v) { return AttributeValue::S(std::move(v)); }
AttributeValue N(int64_t v) { return AttributeValue::N(Decimal::FromInt(v)); }

KeySchema HashKey(std::string name) { return KeySchema{{std::move(name), AttrType::kS}, {}}; }

IndexDef Gsi(std::string name, std::string hash) {
  IndexDef index;
  index.name = std::move(name);
  index.key = HashKey(std::move(hash));
  return index;
}

std::vector<Item> Drain(std::unique_ptr<ItemIterator> it) {
  std::vector<Item> items;
  while (it->Next()) items.push_back(it->item());
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return items;
}

bool WaitFor(const std::function<bool()>& done, milliseconds timeout = milliseconds(20000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/index_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open(EngineOptions options = {}) {
    engine_.reset();
    options.path = dir_ + "/db";
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }

  Status Put(const std::string& table, Item item) {
    auto def = engine_->GetTable(table);
    if (def == nullptr) return NotFoundError("no table");
    Item key = {{"pk", item.at("pk")}};
    if (def->key.range) key.emplace(def->key.range->name, item.at(def->key.range->name));
    auto batch = engine_->BeginWrite({{def, key}});
    batch->Put(*def, std::move(item));
    return batch->Commit();
  }
  Status Delete(const std::string& table, const std::string& pk) {
    auto def = engine_->GetTable(table);
    if (def == nullptr) return NotFoundError("no table");
    Item key = {{"pk", S(pk)}};
    auto batch = engine_->BeginWrite({{def, key}});
    batch->Delete(*def, key);
    return batch->Commit();
  }

  std::optional<IndexState> StateOf(const std::string& table, const std::string& index) {
    auto def = engine_->GetTable(table);
    const IndexDef* found = def ? def->FindIndex(index) : nullptr;
    if (found == nullptr) return std::nullopt;
    return found->state;
  }

  // The index holds exactly one entry per table item with a string `g`, equal to the item.
  void ExpectIndexMatchesTable(const std::string& table, const std::string& index) {
    auto def = engine_->GetTable(table);
    ASSERT_NE(def, nullptr);
    const IndexDef* gsi = def->FindIndex(index);
    ASSERT_NE(gsi, nullptr);
    std::map<std::string, Item> expected;
    for (Item& item : Drain(engine_->Scan(*def, nullptr, 0, 1, nullptr))) {
      auto g = item.find("g");
      if (g != item.end() && g->second.type == AttrType::kS) {
        expected[item.at("pk").str] = std::move(item);
      }
    }
    std::map<std::string, Item> actual;
    for (Item& entry : Drain(engine_->Scan(*def, gsi, 0, 1, nullptr))) {
      std::string pk = entry.at("pk").str;
      EXPECT_TRUE(actual.emplace(pk, std::move(entry)).second) << "two entries for " << pk;
    }
    EXPECT_EQ(actual.size(), expected.size());
    for (const auto& [pk, item] : expected) {
      auto it = actual.find(pk);
      if (it == actual.end()) {
        ADD_FAILURE() << "no entry for " << pk;
      } else {
        EXPECT_EQ(it->second, item) << "stale entry for " << pk;
      }
    }
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

Item Row(int pk, int version) {
  Item item = {{"pk", S("p" + std::to_string(pk))}, {"v", N(version)}};
  // Every fifth item is not in the index (sparse), every seventh has g of the wrong type.
  if (pk % 5 != 0) item["g"] = pk % 7 == 0 ? N(pk) : S("g" + std::to_string((pk + version) % 13));
  return item;
}

TEST_F(IndexTest, BackfillWithConcurrentWritersIndexesEveryItemOnceWithItsCurrentValue) {
  std::atomic<int> steps{0};
  Open({.index_backfill_batch = 7, .index_work_gate = [&] {
          // Slow the backfill down so the writers overlap many of its batches.
          ++steps;
          std::this_thread::sleep_for(milliseconds(1));
          return true;
        }});
  ASSERT_TRUE(engine_->CreateTable({.name = "t", .key = HashKey("pk")}).ok());
  constexpr int kItems = 600;
  for (int i = 0; i < kItems; ++i) ASSERT_TRUE(Put("t", Row(i, 0)).ok());

  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int version = 1; !stop; ++version) {
        int pk = static_cast<int>(rng() % (kItems + 100));  // some brand-new items too
        Status st =
            rng() % 4 == 0 ? Delete("t", "p" + std::to_string(pk)) : Put("t", Row(pk, version));
        ASSERT_TRUE(st.ok()) << st.ToString();
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(20));
  auto def = engine_->GetTable("t");
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("by_g", "g"), def->meta).ok());
  EXPECT_EQ(StateOf("t", "by_g"), IndexState::kBackfilling);
  EXPECT_TRUE(WaitFor([&] { return StateOf("t", "by_g") == IndexState::kActive; }));
  std::this_thread::sleep_for(milliseconds(20));  // writes after the backfill, too
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_GT(steps.load(), kItems / 7 / 2);  // it did work in bounded batches
  ExpectIndexMatchesTable("t", "by_g");
  // Restart: the index is ACTIVE and still complete.
  Open();
  EXPECT_EQ(StateOf("t", "by_g"), IndexState::kActive);
  ExpectIndexMatchesTable("t", "by_g");
}

TEST_F(IndexTest, CommitMaintainsAnIndexAddedAfterItsBeginWrite) {
  Open({.index_work_gate = [] { return false; }});  // the backfill never runs
  ASSERT_TRUE(engine_->CreateTable({.name = "t", .key = HashKey("pk")}).ok());
  auto old_def = engine_->GetTable("t");
  Item key = {{"pk", S("a")}};
  auto batch = engine_->BeginWrite({{old_def, key}});
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("by_g", "g"), old_def->meta).ok());
  batch->Put(*old_def, {{"pk", S("a")}, {"g", S("x")}});
  ASSERT_TRUE(batch->Commit().ok());
  auto def = engine_->GetTable("t");
  EXPECT_EQ(
      Drain(engine_->Query(*def, def->FindIndex("by_g"), S("x"), SortRange::All(), true, nullptr))
          .size(),
      1u);
}

TEST_F(IndexTest, InterruptedBackfillResumesAfterRestart) {
  std::atomic<int> allowed{3};
  std::atomic<bool> parked{false};
  Open({.index_backfill_batch = 10, .index_work_gate = [&] {
          if (allowed-- > 0) return true;
          parked = true;
          return false;
        }});
  ASSERT_TRUE(engine_->CreateTable({.name = "t", .key = HashKey("pk")}).ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Put("t", Row(i, 0)).ok());
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("by_g", "g"), "").ok());
  ASSERT_TRUE(WaitFor([&] { return parked.load(); }));
  EXPECT_EQ(StateOf("t", "by_g"), IndexState::kBackfilling);
  auto def = engine_->GetTable("t");
  size_t partial = Drain(engine_->Scan(*def, def->FindIndex("by_g"), 0, 1, nullptr)).size();
  EXPECT_GT(partial, 0u);
  EXPECT_LT(partial, 140u);
  // Writes while parked keep the half-built index current.
  for (int i = 0; i < 200; i += 3) ASSERT_TRUE(Put("t", Row(i, 1)).ok());
  for (int i = 1; i < 200; i += 11) ASSERT_TRUE(Delete("t", "p" + std::to_string(i)).ok());

  Open({.index_backfill_batch = 10});
  EXPECT_TRUE(WaitFor([&] { return StateOf("t", "by_g") == IndexState::kActive; }));
  ExpectIndexMatchesTable("t", "by_g");
}

TEST_F(IndexTest, RemoveIndexDeletesItsEntriesAndSurvivesRestart) {
  Open({.index_work_gate = [] { return false; }});
  TableDef def{.name = "t", .key = HashKey("pk")};
  def.gsis.push_back(Gsi("by_g", "g"));
  ASSERT_TRUE(engine_->CreateTable(def).ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Put("t", Row(i, 0)).ok());
  auto before = engine_->GetTable("t");
  IndexDef removed = *before->FindIndex("by_g");
  ASSERT_FALSE(Drain(engine_->Scan(*before, &removed, 0, 1, nullptr)).empty());

  ASSERT_TRUE(engine_->RemoveGlobalIndex("t", "by_g", "meta2").ok());
  EXPECT_EQ(StateOf("t", "by_g"), IndexState::kDeleting);
  EXPECT_EQ(engine_->GetTable("t")->meta, "meta2");
  EXPECT_EQ(engine_->RemoveGlobalIndex("t", "by_g", "").code(), ErrorCode::kResourceInUse);
  ASSERT_TRUE(Put("t", Row(1000, 0)).ok());  // not indexed any more

  Open();  // the removal resumes
  EXPECT_TRUE(WaitFor([&] { return !StateOf("t", "by_g").has_value(); }));
  auto after = engine_->GetTable("t");
  EXPECT_TRUE(after->gsis.empty());
  EXPECT_TRUE(Drain(engine_->Scan(*after, &removed, 0, 1, nullptr)).empty());
  // A new index never reuses the removed one's id.
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("by_g", "g"), "").ok());
  EXPECT_NE(engine_->GetTable("t")->FindIndex("by_g")->id, removed.id);
  EXPECT_TRUE(WaitFor([&] { return StateOf("t", "by_g") == IndexState::kActive; }));
  ExpectIndexMatchesTable("t", "by_g");
}

TEST_F(IndexTest, BackfillingIndexCanBeRemoved) {
  std::atomic<int> allowed{1};
  Open({.index_backfill_batch = 5, .index_work_gate = [&] { return allowed-- > 0; }});
  ASSERT_TRUE(engine_->CreateTable({.name = "t", .key = HashKey("pk")}).ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(Put("t", Row(i, 0)).ok());
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("by_g", "g"), "").ok());
  IndexDef building = *engine_->GetTable("t")->FindIndex("by_g");
  ASSERT_TRUE(WaitFor([&] { return allowed.load() < 0; }));
  ASSERT_TRUE(engine_->RemoveGlobalIndex("t", "by_g", "").ok());
  Open();
  EXPECT_TRUE(WaitFor([&] { return !StateOf("t", "by_g").has_value(); }));
  EXPECT_TRUE(Drain(engine_->Scan(*engine_->GetTable("t"), &building, 0, 1, nullptr)).empty());
}

TEST_F(IndexTest, OneIndexChangeAtATime) {
  Open({.index_work_gate = [] { return false; }});
  TableDef def{.name = "t", .key = HashKey("pk")};
  def.gsis.push_back(Gsi("old", "o"));
  ASSERT_TRUE(engine_->CreateTable(def).ok());
  EXPECT_EQ(engine_->AddGlobalIndex("nope", Gsi("x", "g"), "").code(),
            ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->RemoveGlobalIndex("t", "nope", "").code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->AddGlobalIndex("t", Gsi("old", "g"), "").code(), ErrorCode::kResourceInUse);
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("new", "g"), "").ok());
  EXPECT_EQ(engine_->AddGlobalIndex("t", Gsi("other", "h"), "").code(), ErrorCode::kResourceInUse);
  EXPECT_EQ(engine_->RemoveGlobalIndex("t", "old", "").code(), ErrorCode::kResourceInUse);
}

TEST_F(IndexTest, DeleteTableRacingWithWritersLeavesNothingBehind) {
  Open({.index_backfill_batch = 3});
  TableDef def{.name = "t", .key = {{"pk", AttrType::kS}, KeyAttribute{"sk", AttrType::kN}}};
  IndexDef lsi;
  lsi.name = "by_l";
  lsi.key = {{"pk", AttrType::kS}, KeyAttribute{"l", AttrType::kS}};
  def.lsis.push_back(lsi);
  def.gsis.push_back(Gsi("by_g", "g"));
  ASSERT_TRUE(engine_->CreateTable(def).ok());
  auto table = engine_->GetTable("t");
  std::atomic<int> committed{0};
  std::atomic<int> refused{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        Item item = {{"pk", S("p" + std::to_string(i % 37))},
                     {"sk", N(w * 1000000 + i)},
                     {"g", S("x")},
                     {"h", S("y")},
                     {"l", S("z")}};
        Item key = {{"pk", item.at("pk")}, {"sk", item.at("sk")}};
        auto batch = engine_->BeginWrite({{table, key}});  // the def from before the delete
        batch->Put(*table, std::move(item));
        Status st = batch->Commit();
        if (st.ok()) {
          ++committed;
        } else {
          ASSERT_EQ(st.code(), ErrorCode::kResourceNotFound) << st.ToString();
          ++refused;
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return committed.load() > 500; }));
  // A backfill in flight as well.
  ASSERT_TRUE(engine_->AddGlobalIndex("t", Gsi("by_h", "h"), table->meta).ok());
  IndexDef by_h = *engine_->GetTable("t")->FindIndex("by_h");
  ASSERT_TRUE(engine_->DeleteTable("t").ok());
  ASSERT_TRUE(WaitFor([&] { return refused.load() > 100; }));
  stop = true;
  for (auto& t : writers) t.join();

  auto expect_empty = [&] {
    EXPECT_TRUE(Drain(engine_->Scan(*table, nullptr, 0, 1, nullptr)).empty());
    for (const IndexDef* index :
         std::vector<const IndexDef*>{&table->lsis[0], &table->gsis[0], &by_h}) {
      EXPECT_TRUE(Drain(engine_->Scan(*table, index, 0, 1, nullptr)).empty()) << index->name;
    }
  };
  expect_empty();
  EXPECT_EQ(engine_->GetTable("t"), nullptr);
  Open();
  expect_empty();
  // A new table of the same name starts from nothing.
  ASSERT_TRUE(engine_->CreateTable({.name = "t", .key = HashKey("pk")}).ok());
  EXPECT_EQ(engine_->Stats(*engine_->GetTable("t")).item_count, 0);
}

TEST_F(IndexTest, ItemCollectionSizeIsTrackedAndLimited) {
  Open({.item_collection_limit_bytes = 3000});
  TableDef def{.name = "t", .key = {{"pk", AttrType::kS}, KeyAttribute{"sk", AttrType::kN}}};
  IndexDef lsi;
  lsi.name = "by_l";
  lsi.key = {{"pk", AttrType::kS}, KeyAttribute{"l", AttrType::kS}};
  lsi.projection = ProjectionType::kKeysOnly;
  def.lsis.push_back(lsi);
  ASSERT_TRUE(engine_->CreateTable(def).ok());
  auto table = engine_->GetTable("t");
  auto write = [&](Item item, std::optional<int64_t>* bytes) {
    Item key = {{"pk", item.at("pk")}, {"sk", item.at("sk")}};
    auto batch = engine_->BeginWrite({{table, key}});
    batch->Put(*table, std::move(item));
    Status st = batch->Commit();
    if (bytes != nullptr) *bytes = batch->ItemCollectionBytes(*table, key);
    return st;
  };
  Item first = {{"pk", S("a")}, {"sk", N(1)}, {"l", S("x")}, {"d", S(std::string(1000, 'd'))}};
  Item keys_only = {{"pk", S("a")}, {"sk", N(1)}, {"l", S("x")}};
  std::optional<int64_t> bytes;
  ASSERT_TRUE(write(first, &bytes).ok());
  int64_t one = static_cast<int64_t>(ItemSize(first) + ItemSize(keys_only));
  EXPECT_EQ(bytes, one);
  Item second = first;
  second["sk"] = N(2);
  second.erase("l");  // not in the LSI: only the item counts
  ASSERT_TRUE(write(second, &bytes).ok());
  EXPECT_EQ(bytes, one + static_cast<int64_t>(ItemSize(second)));
  Item third = first;
  third["sk"] = N(3);
  Status st = write(third, nullptr);
  EXPECT_EQ(st.code(), ErrorCode::kItemCollectionSizeLimitExceeded) << st.ToString();
  // Another partition has its own collection; shrinking one is always allowed.
  third["pk"] = S("b");
  ASSERT_TRUE(write(third, &bytes).ok());
  EXPECT_EQ(bytes, one);
  Item key = {{"pk", S("a")}, {"sk", N(2)}};
  auto batch = engine_->BeginWrite({{table, key}});
  batch->Delete(*table, key);
  ASSERT_TRUE(batch->Commit().ok());
  EXPECT_EQ(batch->ItemCollectionBytes(*table, key), one);
  batch.reset();  // it holds the key's lock, which belongs to the engine
  // Sizes survive a restart.
  Open({.item_collection_limit_bytes = 3000});
  table = engine_->GetTable("t");
  Item fourth = first;
  fourth["sk"] = N(4);
  ASSERT_TRUE(write(fourth, &bytes).ok());
  EXPECT_EQ(bytes, 2 * one);
}

TEST_F(IndexTest, TablesWithoutLsisReportNoCollection) {
  Open();
  ASSERT_TRUE(engine_->CreateTable({.name = "t", .key = HashKey("pk")}).ok());
  auto table = engine_->GetTable("t");
  Item key = {{"pk", S("a")}};
  auto batch = engine_->BeginWrite({{table, key}});
  batch->Put(*table, key);
  ASSERT_TRUE(batch->Commit().ok());
  EXPECT_EQ(batch->ItemCollectionBytes(*table, key), std::nullopt);
}

}  // namespace
}  // namespace cruddur::dynamo::storage
