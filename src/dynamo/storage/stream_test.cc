// The engine's stream log: records committed with their writes, sequence numbers, shards,
// trimming, and what survives a restart.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::storage {
namespace {

AttributeValue S(std::string v) { return AttributeValue::S(std::move(v)); }
AttributeValue N(int64_t v) { return AttributeValue::N(Decimal::FromInt(v)); }

constexpr int64_t kHour = int64_t{3600} * 1000000;

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/stream_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    Reopen();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen(uint64_t shard_records = 1000) {
    engine_.reset();
    EngineOptions options{.path = dir_ + "/db"};
    options.stream_shard_records = shard_records;
    options.clock = [this] { return now_.load(); };
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  std::shared_ptr<const TableDef> Create(const std::string& name,
                                         std::optional<StreamViewType> view) {
    TableDef def{.name = name, .key = {{"pk", AttrType::kS}, KeyAttribute{"sk", AttrType::kN}}};
    def.stream_view = view;
    Status st = engine_->CreateTable(std::move(def));
    EXPECT_TRUE(st.ok()) << st.ToString();
    return engine_->GetTable(name);
  }
  void Put(const std::shared_ptr<const TableDef>& t, Item item) {
    auto batch = engine_->BeginWrite({{t, item}});
    batch->Put(*t, std::move(item));
    Status st = batch->Commit();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void Delete(const std::shared_ptr<const TableDef>& t, const Item& key, bool by_service = false) {
    auto batch = engine_->BeginWrite({{t, key}});
    batch->Delete(*t, key, by_service);
    ASSERT_TRUE(batch->Commit().ok());
  }
  std::vector<ChangeRecord> ReadAll(uint64_t stream_id) {
    auto records = engine_->ReadStream(stream_id, 1, UINT64_MAX, 100000, SIZE_MAX);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? *records : std::vector<ChangeRecord>{};
  }

  std::string dir_;
  std::atomic<int64_t> now_{1'700'000'000'000'000};
  std::unique_ptr<Engine> engine_;
};

TEST_F(StreamTest, EveryChangeIsRecordedWithTheImagesItsViewKeeps) {
  auto t = Create("t", StreamViewType::kNewAndOldImages);
  ASSERT_NE(t->stream_id, 0u);
  Item v1{{"pk", S("a")}, {"sk", N(1)}, {"v", N(1)}};
  Item v2{{"pk", S("a")}, {"sk", N(1)}, {"v", N(2)}};
  Item key{{"pk", S("a")}, {"sk", N(1)}};
  Put(t, v1);
  Put(t, v2);
  Put(t, v2);                                 // changes nothing: no record
  Delete(t, key);                             // removes
  Delete(t, key);                             // nothing to remove: no record
  Delete(t, {{"pk", S("b")}, {"sk", N(1)}});  // never existed: no record
  std::vector<ChangeRecord> records = ReadAll(t->stream_id);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, ChangeKind::kInsert);
  EXPECT_EQ(records[0].keys, key);
  EXPECT_FALSE(records[0].old_image.has_value());
  EXPECT_EQ(records[0].new_image, v1);
  EXPECT_EQ(records[0].size_bytes, ItemSize(key) + ItemSize(v1));
  EXPECT_EQ(records[1].kind, ChangeKind::kModify);
  EXPECT_EQ(records[1].old_image, v1);
  EXPECT_EQ(records[1].new_image, v2);
  EXPECT_EQ(records[2].kind, ChangeKind::kRemove);
  EXPECT_EQ(records[2].old_image, v2);
  EXPECT_FALSE(records[2].new_image.has_value());
  EXPECT_FALSE(records[2].by_service);
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].seq, i + 1);
  EXPECT_EQ(engine_->GetStream(t->stream_id)->last_seq, 3u);

  for (auto [view, has_old, has_new] : {std::tuple{StreamViewType::kKeysOnly, false, false},
                                        std::tuple{StreamViewType::kNewImage, false, true},
                                        std::tuple{StreamViewType::kOldImage, true, false}}) {
    std::string name = "view" + std::to_string(static_cast<int>(view));
    auto v = Create(name, view);
    Put(v, v1);
    Put(v, v2);
    std::vector<ChangeRecord> got = ReadAll(v->stream_id);
    ASSERT_EQ(got.size(), 2u) << name;
    EXPECT_EQ(got[1].keys, key);
    EXPECT_EQ(got[1].old_image.has_value(), has_old) << name;
    EXPECT_EQ(got[1].new_image.has_value(), has_new) << name;
  }
}

TEST_F(StreamTest, ServiceRemovalsAreMarked) {
  auto t = Create("t", StreamViewType::kKeysOnly);
  Put(t, {{"pk", S("a")}, {"sk", N(1)}});
  Delete(t, {{"pk", S("a")}, {"sk", N(1)}}, /*by_service=*/true);
  std::vector<ChangeRecord> records = ReadAll(t->stream_id);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].by_service);
  EXPECT_TRUE(records[1].by_service);
}

TEST_F(StreamTest, TablesWithoutAStreamWriteNoRecords) {
  auto t = Create("t", std::nullopt);
  EXPECT_EQ(t->stream_id, 0u);
  Put(t, {{"pk", S("a")}, {"sk", N(1)}});
  EXPECT_TRUE(engine_->ListStreams().empty());
}

TEST_F(StreamTest, AFailedCommitWritesNoRecordAndUsesNoSequenceNumber) {
  auto t = Create("t", StreamViewType::kKeysOnly);
  auto batch = engine_->BeginWrite({{t, {{"pk", S("a")}, {"sk", N(1)}}}});
  batch->Put(*t, {{"pk", S("a")}, {"sk", S("not a number")}});
  EXPECT_FALSE(batch->Commit().ok());
  batch.reset();
  Put(t, {{"pk", S("b")}, {"sk", N(1)}});
  std::vector<ChangeRecord> records = ReadAll(t->stream_id);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].seq, 1u);
}

TEST_F(StreamTest, OneCommitOfSeveralItemsRecordsEach) {
  auto t = Create("t", StreamViewType::kKeysOnly);
  auto batch = engine_->BeginWrite(
      {{t, {{"pk", S("a")}, {"sk", N(1)}}}, {t, {{"pk", S("b")}, {"sk", N(1)}}}});
  batch->Put(*t, {{"pk", S("a")}, {"sk", N(1)}});
  batch->Put(*t, {{"pk", S("b")}, {"sk", N(1)}});
  ASSERT_TRUE(batch->Commit().ok());
  EXPECT_EQ(ReadAll(t->stream_id).size(), 2u);
}

TEST_F(StreamTest, EnableAndDisable) {
  auto t = Create("t", std::nullopt);
  EXPECT_EQ(engine_->SetTableStream("t", std::nullopt).code(), ErrorCode::kValidation);
  EXPECT_EQ(engine_->SetTableStream("missing", StreamViewType::kKeysOnly).code(),
            ErrorCode::kResourceNotFound);
  ASSERT_TRUE(engine_->SetTableStream("t", StreamViewType::kNewImage).ok());
  Status again = engine_->SetTableStream("t", StreamViewType::kKeysOnly);
  EXPECT_EQ(again.code(), ErrorCode::kValidation);
  EXPECT_EQ(again.message(), "Table already has an enabled stream: TableName: t");
  t = engine_->GetTable("t");
  uint64_t first = t->stream_id;
  ASSERT_NE(first, 0u);
  EXPECT_EQ(t->stream_view, StreamViewType::kNewImage);
  Put(t, {{"pk", S("a")}, {"sk", N(1)}});

  now_ += 1000;
  ASSERT_TRUE(engine_->SetTableStream("t", std::nullopt).ok());
  t = engine_->GetTable("t");
  EXPECT_EQ(t->stream_id, first);  // still the latest stream, now disabled
  EXPECT_FALSE(t->stream_view.has_value());
  Put(t, {{"pk", S("b")}, {"sk", N(1)}});  // no stream now
  std::optional<StreamInfo> old = engine_->GetStream(first);
  ASSERT_TRUE(old.has_value());
  EXPECT_NE(old->disabled_micros, 0);
  EXPECT_EQ(old->last_seq, 1u);
  auto shards = engine_->ListShards(first);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 1u);
  EXPECT_TRUE((*shards)[0].closed);
  EXPECT_EQ((*shards)[0].last_seq, 1u);

  // Re-enabling makes a new stream; the old one stays readable.
  ASSERT_TRUE(engine_->SetTableStream("t", StreamViewType::kKeysOnly).ok());
  t = engine_->GetTable("t");
  EXPECT_NE(t->stream_id, first);
  EXPECT_EQ(engine_->ListStreams().size(), 2u);
  EXPECT_EQ(ReadAll(first).size(), 1u);

  // Deleting the table disables its stream and keeps it.
  uint64_t second = t->stream_id;
  ASSERT_TRUE(engine_->DeleteTable("t").ok());
  EXPECT_NE(engine_->GetStream(second)->disabled_micros, 0);
}

TEST_F(StreamTest, ShardsRollOverWithParentLinksAndSequenceNumbersKeepGrowing) {
  Reopen(/*shard_records=*/3);
  auto t = Create("t", StreamViewType::kKeysOnly);
  for (int i = 0; i < 7; ++i) Put(t, {{"pk", S("a")}, {"sk", N(i)}});
  auto shards = engine_->ListShards(t->stream_id);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 3u);
  EXPECT_EQ((*shards)[0].first_seq, 1u);
  EXPECT_TRUE((*shards)[0].closed);
  EXPECT_EQ((*shards)[0].last_seq, 3u);
  EXPECT_EQ((*shards)[1].first_seq, 4u);
  EXPECT_EQ((*shards)[1].last_seq, 6u);
  EXPECT_EQ((*shards)[2].first_seq, 7u);
  EXPECT_FALSE((*shards)[2].closed);

  // Time also closes a shard: the next write after four hours opens a child.
  now_ += 4 * kHour;
  Put(t, {{"pk", S("b")}, {"sk", N(1)}});
  shards = engine_->ListShards(t->stream_id);
  ASSERT_EQ(shards->size(), 4u);
  EXPECT_EQ((*shards)[3].first_seq, 8u);

  // Shards, records and sequence numbers survive a restart.
  Reopen(3);
  auto reopened = engine_->ListShards(t->stream_id);
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(reopened->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*reopened)[i].first_seq, (*shards)[i].first_seq);
    EXPECT_EQ((*reopened)[i].closed, (*shards)[i].closed);
  }
  t = engine_->GetTable("t");
  Put(t, {{"pk", S("c")}, {"sk", N(1)}});
  EXPECT_EQ(ReadAll(t->stream_id).back().seq, 9u);
}

TEST_F(StreamTest, ReadingIsBoundedByCountBytesAndRange) {
  auto t = Create("t", StreamViewType::kNewImage);
  for (int i = 0; i < 10; ++i)
    Put(t, {{"pk", S("a")}, {"sk", N(i)}, {"pad", S(std::string(100, 'x'))}});
  auto some = engine_->ReadStream(t->stream_id, 3, 8, 4, SIZE_MAX);
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 4u);
  EXPECT_EQ((*some)[0].seq, 3u);
  EXPECT_EQ((*some)[3].seq, 6u);
  auto bounded = engine_->ReadStream(t->stream_id, 1, 10, 100, 250);
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->size(), 2u);
  auto first_only = engine_->ReadStream(t->stream_id, 1, 10, 100, 1);
  EXPECT_EQ(first_only->size(), 1u);  // the first record always comes, whatever its size
}

TEST_F(StreamTest, TrimmingDropsOldRecordsButNeverReusesSequenceNumbers) {
  Reopen(/*shard_records=*/2);
  auto t = Create("t", StreamViewType::kKeysOnly);
  for (int i = 0; i < 5; ++i) Put(t, {{"pk", S("a")}, {"sk", N(i)}});
  now_ += 25 * kHour;
  Put(t, {{"pk", S("b")}, {"sk", N(1)}});
  ASSERT_TRUE(engine_->TrimStreams(std::chrono::hours(24)).ok());
  std::vector<ChangeRecord> left = ReadAll(t->stream_id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].seq, 6u);
  EXPECT_EQ(engine_->GetStream(t->stream_id)->trim_seq, 6u);
  auto shards = engine_->ListShards(t->stream_id);
  ASSERT_TRUE(shards.ok());
  // Shards 1-2, 3-4 and 5 (closed by age when 6 came) are gone; the open one (6-) stays.
  ASSERT_EQ(shards->size(), 1u);
  EXPECT_EQ((*shards)[0].first_seq, 6u);

  // Everything trimmed, then a restart: numbering continues after the last one handed out.
  now_ += 25 * kHour;
  ASSERT_TRUE(engine_->TrimStreams(std::chrono::hours(24)).ok());
  EXPECT_TRUE(ReadAll(t->stream_id).empty());
  Reopen(2);
  t = engine_->GetTable("t");
  EXPECT_EQ(engine_->GetStream(t->stream_id)->last_seq, 6u);
  Put(t, {{"pk", S("c")}, {"sk", N(1)}});
  EXPECT_EQ(ReadAll(t->stream_id).back().seq, 7u);

  // A disabled stream goes away entirely once past retention.
  ASSERT_TRUE(engine_->SetTableStream("t", std::nullopt).ok());
  uint64_t id = t->stream_id;
  now_ += 25 * kHour;
  ASSERT_TRUE(engine_->TrimStreams(std::chrono::hours(24)).ok());
  EXPECT_FALSE(engine_->GetStream(id).has_value());
  EXPECT_EQ(engine_->ListShards(id).status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(StreamTest, WaitForStreamWakesOnCommit) {
  auto t = Create("t", StreamViewType::kKeysOnly);
  EXPECT_FALSE(engine_->WaitForStream(t->stream_id, 0, std::chrono::milliseconds(1)));
  std::thread writer([&] { Put(t, {{"pk", S("a")}, {"sk", N(1)}}); });
  EXPECT_TRUE(engine_->WaitForStream(t->stream_id, 0, std::chrono::seconds(30)));
  writer.join();
}

TEST_F(StreamTest, ConcurrentWritersGetDistinctIncreasingSequenceNumbers) {
  auto t = Create("t", StreamViewType::kKeysOnly);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; ++j) {
        Put(t, {{"pk", S("k" + std::to_string(i))}, {"sk", N(j)}});
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<ChangeRecord> records = ReadAll(t->stream_id);
  ASSERT_EQ(records.size(), size_t{kThreads * kPerThread});
  // Per item-writer order is kept: each thread's sort keys appear in increasing order.
  std::map<std::string, int64_t> last;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, i + 1);
    const std::string& pk = records[i].keys.at("pk").str;
    std::string sk = records[i].keys.at("sk").num.ToString();
    int64_t value = std::stoll(sk);
    auto it = last.find(pk);
    if (it != last.end()) {
      EXPECT_GT(value, it->second);
    }
    last[pk] = value;
  }
}

}  // namespace
}  // namespace cruddur::dynamo::storage
