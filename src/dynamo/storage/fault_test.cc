// Disk faults under a real on-disk database: failed writes (EIO), a full disk (ENOSPC) and slow
// fsyncs, injected through FaultFileSystem. What must hold: a write the engine did not store is
// never acknowledged and never seen, not even after a reopen; what was acknowledged survives;
// items, index entries, stats and stream records stay consistent; and the engine takes writes
// again by itself once the disk works, without a restart.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "dynamo/storage/engine.h"
#include "dynamo/storage/fault_fs.h"

namespace cruddur::dynamo::storage {
namespace {

using Error = FaultFileSystem::Error;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

AttributeValue S(std::string v) { return AttributeValue::S(std::move(v)); }

// How long recovery may take once a fault clears: RocksDB retries every 100 ms and its
// SstFileManager polls for free space about once a second.
constexpr milliseconds kRecoveryDeadline{20000};

// ---- FaultFileSystem on its own ----

class FaultFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/fault_fs_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<rocksdb::FSWritableFile> Open(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = fs_.NewWritableFile(dir_ + "/" + name, {}, &file, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return file;
  }
  uint64_t SizeOf(const std::string& name) { return std::filesystem::file_size(dir_ + "/" + name); }

  std::string dir_;
  FaultFileSystem fs_;
};

TEST_F(FaultFileSystemTest, FailsChosenCallsOfChosenFilesUntilCleared) {
  auto wal = Open("000007.log");
  auto table = Open("000008.sst");
  ASSERT_TRUE(wal->Append("ok", {}, nullptr).ok());

  fs_.SetFault(
      {.error = Error::kIo, .ops = FaultFileSystem::kAppend, .files = FaultFileSystem::kWal});
  rocksdb::IOStatus failed = wal->Append("lost", {}, nullptr);
  EXPECT_TRUE(failed.IsIOError());
  EXPECT_FALSE(failed.IsNoSpace());
  EXPECT_TRUE(wal->Sync({}, nullptr).ok());                               // another call
  EXPECT_TRUE(table->Append("sst", {}, nullptr).ok());                    // another file
  EXPECT_TRUE(Open("000009.log")->Append("x", {}, nullptr).IsIOError());  // a new file too

  fs_.SetFault({.error = Error::kNoSpace, .ops = FaultFileSystem::kSync});
  EXPECT_TRUE(wal->Sync({}, nullptr).IsNoSpace());
  EXPECT_TRUE(table->Fsync({}, nullptr).IsNoSpace());
  EXPECT_TRUE(wal->Append("more", {}, nullptr).ok());
  EXPECT_EQ(fs_.injected_failures(), 4u);

  fs_.Clear();
  EXPECT_TRUE(wal->Append("!", {}, nullptr).ok());
  EXPECT_TRUE(wal->Sync({}, nullptr).ok());
  ASSERT_TRUE(wal->Close({}, nullptr).ok());
  ASSERT_TRUE(table->Close({}, nullptr).ok());
  EXPECT_EQ(SizeOf("000007.log"), std::string("okmore!").size());  // nothing of "lost"
  EXPECT_EQ(fs_.injected_failures(), 4u);
}

TEST_F(FaultFileSystemTest, DelaysSyncsOfChosenFiles) {
  auto wal = Open("000001.log");
  auto manifest = Open("MANIFEST-000002");
  fs_.SetFault({.files = FaultFileSystem::kWal, .sync_delay = milliseconds(150)});
  auto start = steady_clock::now();
  EXPECT_TRUE(manifest->Sync({}, nullptr).ok());
  EXPECT_LT(steady_clock::now() - start, milliseconds(150));
  start = steady_clock::now();
  EXPECT_TRUE(wal->Sync({}, nullptr).ok());
  EXPECT_GE(steady_clock::now() - start, milliseconds(150));
  EXPECT_EQ(fs_.delayed_syncs(), 1u);
  EXPECT_EQ(fs_.injected_failures(), 0u);
}

// ---- The engine over a faulty disk ----

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/fault_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    Reopen();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen(bool sync = false) {
    table_.reset();
    engine_.reset();
    EngineOptions options{.path = dir_ + "/db", .sync = sync};
    options.file_system = fs_;
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
    table_ = engine_->GetTable("msgs");
  }

  // A messages table with a sparse GSI on g (the message-group index) and a stream.
  void CreateTable() {
    TableDef def{.name = "msgs",
                 .key = {{"pk", AttrType::kS}, KeyAttribute{"sk", AttrType::kS}},
                 .stream_view = StreamViewType::kNewAndOldImages};
    def.gsis.push_back({.name = "by-group",
                        .key = {{"g", AttrType::kS}, KeyAttribute{"sk", AttrType::kS}},
                        .projection = ProjectionType::kAll});
    Status st = engine_->CreateTable(std::move(def));
    ASSERT_TRUE(st.ok()) << st.ToString();
    table_ = engine_->GetTable("msgs");
  }

  static Item Key(const std::string& pk, const std::string& sk) {
    return {{"pk", S(pk)}, {"sk", S(sk)}};
  }
  static Item Message(const std::string& pk, const std::string& sk, const std::string& body,
                      std::optional<std::string> group = "grp") {
    Item item = Key(pk, sk);
    item["body"] = S(body);
    if (group) item["g"] = S(*group);
    return item;
  }

  // One commit of puts and deletes (a transaction when it has several).
  Status Commit(const std::vector<Item>& puts, const std::vector<Item>& deletes = {}) {
    std::vector<std::pair<std::shared_ptr<const TableDef>, Item>> keys;
    for (const Item& item : puts) keys.emplace_back(table_, item);
    for (const Item& key : deletes) keys.emplace_back(table_, key);
    auto batch = engine_->BeginWrite(std::move(keys));
    for (const Item& item : puts) batch->Put(*table_, item);
    for (const Item& key : deletes) batch->Delete(*table_, key);
    return batch->Commit();
  }

  // Retries `commit` until the engine takes it; the recovery is asynchronous.
  Status CommitEventually(const std::function<Status()>& commit) {
    auto deadline = steady_clock::now() + kRecoveryDeadline;
    Status st = commit();
    while (!st.ok() && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
      st = commit();
    }
    return st;
  }

  std::optional<Item> Get(const Item& key) {
    auto item = engine_->Get(*table_, key);
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item.ok() ? std::move(item).value() : std::nullopt;
  }

  std::vector<Item> ScanAll(const IndexDef* index) {
    std::vector<Item> items;
    auto it = engine_->Scan(*table_, index, 0, 1, nullptr);
    while (it->Next()) items.push_back(it->item());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return items;
  }

  std::vector<ChangeRecord> Stream() {
    auto records = engine_->ReadStream(table_->stream_id, 1, UINT64_MAX, 100000, SIZE_MAX);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? std::move(records).value() : std::vector<ChangeRecord>{};
  }

  // The table, its index, its stats and its stream all say the same as `expected` (the items
  // acknowledged, by key) and `changes` (the acknowledged changes' new images, in commit order;
  // nullopt for a removal).
  void ExpectConsistent(const std::map<std::string, Item>& expected,
                        const std::vector<std::pair<Item, std::optional<Item>>>& changes) {
    std::vector<Item> items = ScanAll(nullptr);
    std::map<std::string, Item> stored;
    for (const Item& item : items) stored[item.at("pk").str + "/" + item.at("sk").str] = item;
    EXPECT_EQ(stored, expected);
    EXPECT_EQ(items.size(), stored.size());

    std::map<std::string, Item> indexed;
    for (const Item& item : ScanAll(table_->FindIndex("by-group"))) {
      indexed[item.at("pk").str + "/" + item.at("sk").str] = item;
    }
    std::map<std::string, Item> with_group;
    for (const auto& [key, item] : expected) {
      if (item.contains("g")) with_group[key] = item;
    }
    EXPECT_EQ(indexed, with_group);

    TableStats stats = engine_->Stats(*table_);
    EXPECT_EQ(stats.item_count, static_cast<int64_t>(expected.size()));
    int64_t size = 0;
    for (const auto& [key, item] : expected) size += static_cast<int64_t>(ItemSize(item));
    EXPECT_EQ(stats.size_bytes, size);

    std::vector<ChangeRecord> records = Stream();
    ASSERT_EQ(records.size(), changes.size());
    for (size_t i = 0; i < records.size(); ++i) {
      SCOPED_TRACE("stream record " + std::to_string(i));
      EXPECT_EQ(records[i].keys, changes[i].first);
      EXPECT_EQ(records[i].new_image, changes[i].second);
      if (i > 0) {
        EXPECT_GT(records[i].seq, records[i - 1].seq);
      }
    }
  }

  std::string dir_;
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<const TableDef> table_;
};

// A fault on every append to the write-ahead log: what a failing or full disk does to a write.
FaultFileSystem::Fault WalFault(Error error) {
  return {.error = error, .ops = FaultFileSystem::kAppend, .files = FaultFileSystem::kWal};
}

class WalFaultTest : public FaultTest, public ::testing::WithParamInterface<Error> {};

TEST_P(WalFaultTest, FailedWritesAreNeitherAcknowledgedNorStored) {
  CreateTable();
  ASSERT_TRUE(Commit({Message("u1", "m1", "before")}).ok());

  fs_->SetFault(WalFault(GetParam()));
  Status put = Commit({Message("u1", "m2", "during")});
  EXPECT_EQ(put.code(), ErrorCode::kIo) << put.ToString();
  Status del = Commit({}, {Key("u1", "m1")});
  EXPECT_EQ(del.code(), ErrorCode::kIo) << del.ToString();
  Status txn = Commit({Message("u2", "m3", "txn"), Message("u3", "m4", "txn")}, {Key("u1", "m1")});
  EXPECT_EQ(txn.code(), ErrorCode::kIo) << txn.ToString();
  // Past the first failure RocksDB has stopped writes, and the error says so.
  EXPECT_NE(txn.message().find("writes are stopped"), std::string::npos) << txn.ToString();
  EXPECT_GT(fs_->injected_failures(), 0u);

  // Reads go on, and see none of it.
  EXPECT_EQ(Get(Key("u1", "m1")), Message("u1", "m1", "before"));
  for (const Item& key : {Key("u1", "m2"), Key("u2", "m3"), Key("u3", "m4")}) {
    EXPECT_EQ(Get(key), std::nullopt);
  }
  std::map<std::string, Item> expected{{"u1/m1", Message("u1", "m1", "before")}};
  std::vector<std::pair<Item, std::optional<Item>>> changes{
      {Key("u1", "m1"), Message("u1", "m1", "before")}};
  ExpectConsistent(expected, changes);

  // The disk works again: writes are taken again without a restart.
  fs_->Clear();
  Status after = CommitEventually([&] { return Commit({Message("u4", "m5", "after")}); });
  ASSERT_TRUE(after.ok()) << after.ToString();
  ASSERT_TRUE(Commit({}, {Key("u1", "m1")}).ok());
  expected.erase("u1/m1");
  expected["u4/m5"] = Message("u4", "m5", "after");
  changes.push_back({Key("u4", "m5"), Message("u4", "m5", "after")});
  changes.push_back({Key("u1", "m1"), std::nullopt});
  ExpectConsistent(expected, changes);

  Reopen();
  ExpectConsistent(expected, changes);
  ASSERT_TRUE(Commit({Message("u5", "m6", "reopened")}).ok());
}

TEST_P(WalFaultTest, FailedWriteStaysAbsentWhenReopenedBeforeRecovery) {
  CreateTable();
  ASSERT_TRUE(Commit({Message("u1", "m1", "kept")}).ok());
  fs_->SetFault(WalFault(GetParam()));
  EXPECT_EQ(Commit({Message("u1", "m2", "lost")}).code(), ErrorCode::kIo);
  EXPECT_EQ(Commit({}, {Key("u1", "m1")}).code(), ErrorCode::kIo);
  // Closed while writes are stopped, then opened on a working disk.
  fs_->Clear();
  Reopen();
  EXPECT_EQ(Get(Key("u1", "m2")), std::nullopt);
  ExpectConsistent({{"u1/m1", Message("u1", "m1", "kept")}},
                   {{Key("u1", "m1"), Message("u1", "m1", "kept")}});
  ASSERT_TRUE(Commit({Message("u1", "m3", "next")}).ok());
}

TEST_P(WalFaultTest, StreamsAndIndexesStayConsistentAcrossFaults) {
  CreateTable();
  std::map<std::string, Item> expected;
  std::vector<std::pair<Item, std::optional<Item>>> changes;
  // Rounds of writes with a fault in the middle of each: new items, overwrites that move an
  // item to another group (its index entry moves) or out of every group (sparse: the entry
  // goes away), and deletes. Only the acknowledged ones may leave a trace.
  auto write = [&](bool faulty, const Item& key, std::optional<Item> item) {
    auto commit = [&] { return item ? Commit({*item}) : Commit({}, {key}); };
    Status st = faulty ? commit() : CommitEventually(commit);
    if (faulty) {
      EXPECT_EQ(st.code(), ErrorCode::kIo) << st.ToString();
      return;
    }
    ASSERT_TRUE(st.ok()) << st.ToString();
    std::string name = key.at("pk").str + "/" + key.at("sk").str;
    // A delete of an absent item changes nothing and so writes no stream record.
    if (!item && !expected.contains(name)) return;
    if (item) {
      expected[name] = *item;
    } else {
      expected.erase(name);
    }
    changes.emplace_back(key, std::move(item));
  };
  for (int round = 0; round < 3; ++round) {
    std::string r = std::to_string(round);
    for (int i = 0; i < 8; ++i) {
      bool faulty = i >= 3 && i < 6;
      if (faulty) {
        fs_->SetFault(WalFault(GetParam()));
      } else {
        fs_->Clear();
      }
      std::string pk = "u" + std::to_string(i % 3);
      std::optional<std::string> group;
      if (i % 2 == 0) group = "grp" + std::to_string((round + i) % 2);
      write(faulty, Key(pk, "m" + std::to_string(i % 4)),
            Message(pk, "m" + std::to_string(i % 4), "v" + r + std::to_string(i), group));
      if (i % 3 == 2) write(faulty, Key(pk, "m" + std::to_string((i + 1) % 4)), std::nullopt);
    }
  }
  fs_->Clear();
  ExpectConsistent(expected, changes);
  Reopen();
  ExpectConsistent(expected, changes);
}

INSTANTIATE_TEST_SUITE_P(Faults, WalFaultTest, ::testing::Values(Error::kIo, Error::kNoSpace),
                         [](const auto& info) {
                           return std::string(info.param == Error::kIo ? "EIO" : "ENOSPC");
                         });

// A full (or failing) disk under a memtable flush: the writes that filled the memtable were
// acknowledged from the log and must survive; the flush fails in the background, writes stop
// with an error, and come back once the disk does.
class FlushFaultTest : public FaultTest, public ::testing::WithParamInterface<Error> {};

TEST_P(FlushFaultTest, FailedFlushIsReportedAndRecovered) {
  CreateTable();
  fs_->SetFault({.error = GetParam(), .files = FaultFileSystem::kTable});
  // Items of about 300 KB, each written twice (the item and its stream record): the engine's
  // 64 MB memtable budget (EngineOptions::memtable_budget_bytes) calls for a flush after about
  // 95 of them, and the writes before it must all succeed.
  const std::string body(300 * 1000, 'x');
  std::map<std::string, Item> expected;
  Status failed;
  int written = 0;
  for (; written < 1000; ++written) {
    Item item = Message("u" + std::to_string(written), "m", body, std::nullopt);
    failed = Commit({item});
    if (!failed.ok()) break;
    expected["u" + std::to_string(written) + "/m"] = std::move(item);
  }
  ASSERT_EQ(failed.code(), ErrorCode::kIo) << "no write failed after " << written;
  EXPECT_GT(written, 50);
  EXPECT_GT(fs_->injected_failures(), 0u);
  EXPECT_EQ(Get(Key("u" + std::to_string(written), "m")), std::nullopt);
  EXPECT_EQ(Get(Key("u0", "m")), expected["u0/m"]);

  fs_->Clear();
  Item after = Message("after", "m", "small");
  Status st = CommitEventually([&] { return Commit({after}); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  expected["after/m"] = after;
  EXPECT_EQ(engine_->Stats(*table_).item_count, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(Get(Key("u" + std::to_string(written), "m")), std::nullopt);

  Reopen();
  EXPECT_EQ(engine_->Stats(*table_).item_count, static_cast<int64_t>(expected.size()));
  std::map<std::string, Item> stored;
  for (Item& item : ScanAll(nullptr)) {
    stored[item.at("pk").str + "/" + item.at("sk").str] = std::move(item);
  }
  EXPECT_TRUE(stored == expected) << stored.size() << " stored, " << expected.size() << " expected";
  EXPECT_EQ(Stream().size(), expected.size());
}

INSTANTIATE_TEST_SUITE_P(Faults, FlushFaultTest, ::testing::Values(Error::kIo, Error::kNoSpace),
                         [](const auto& info) {
                           return std::string(info.param == Error::kIo ? "EIO" : "ENOSPC");
                         });

// A slow fsync (EngineOptions::sync) holds up the writers waiting for it, but not readers, and
// loses or mixes up nothing.
TEST_F(FaultTest, SlowSyncBlocksWritersOnly) {
  Reopen(/*sync=*/true);
  CreateTable();
  ASSERT_TRUE(Commit({Message("u0", "m", "before")}).ok());
  constexpr milliseconds kDelay{200};
  fs_->SetFault({.files = FaultFileSystem::kWal, .sync_delay = kDelay});

  constexpr int kWriters = 3;
  constexpr int kPerWriter = 3;
  std::vector<std::thread> writers;
  std::atomic<int> acknowledged{0};
  auto start = steady_clock::now();
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        auto begun = steady_clock::now();
        Status st = Commit({Message("w" + std::to_string(w), "m" + std::to_string(i), "slow")});
        EXPECT_TRUE(st.ok()) << st.ToString();
        EXPECT_GE(steady_clock::now() - begun, kDelay);
        if (st.ok()) ++acknowledged;
      }
    });
  }
  // Meanwhile a reader is not held up by the syncs.
  for (int i = 0; i < 5; ++i) {
    auto begun = steady_clock::now();
    EXPECT_EQ(Get(Key("u0", "m")), Message("u0", "m", "before"));
    EXPECT_LT(steady_clock::now() - begun, kDelay);
    std::this_thread::sleep_for(milliseconds(50));
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_GE(steady_clock::now() - start, kDelay * kPerWriter);
  EXPECT_EQ(acknowledged.load(), kWriters * kPerWriter);
  EXPECT_GT(fs_->delayed_syncs(), 0u);

  fs_->Clear();
  Reopen();
  EXPECT_EQ(engine_->Stats(*table_).item_count, 1 + kWriters * kPerWriter);
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kPerWriter; ++i) {
      EXPECT_EQ(Get(Key("w" + std::to_string(w), "m" + std::to_string(i))),
                Message("w" + std::to_string(w), "m" + std::to_string(i), "slow"));
    }
  }
  EXPECT_EQ(Stream().size(), static_cast<size_t>(1 + kWriters * kPerWriter));
}

// Table definitions go through the same log: a CreateTable during a fault fails and leaves no
// table behind.
TEST_F(FaultTest, FailedCreateTableLeavesNoTable) {
  fs_->SetFault(WalFault(Error::kIo));
  EXPECT_EQ(engine_->CreateTable({.name = "t", .key = {{"pk", AttrType::kS}, std::nullopt}}).code(),
            ErrorCode::kIo);
  EXPECT_EQ(engine_->GetTable("t"), nullptr);
  fs_->Clear();
  Status st = CommitEventually([&] {
    return engine_->CreateTable({.name = "t", .key = {{"pk", AttrType::kS}, std::nullopt}});
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  Reopen();
  ASSERT_NE(engine_->GetTable("t"), nullptr);
  EXPECT_EQ(engine_->ListTables(), std::vector<std::string>{"t"});
}

}  // namespace
}  // namespace cruddur::dynamo::storage
