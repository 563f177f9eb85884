#include "triggers/checkpoint_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace cruddur::triggers {
namespace {

class FileCheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cruddur-checkpoints-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/nested/state";  // Open creates missing parents
  }
  void TearDown() override {
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path().parent_path());
  }
  std::string dir_;
};

Checkpoint Sample() {
  Checkpoint cp;
  cp.stream_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000";
  cp.shards["shardId-00000000000000000001-aaaaaaaa"] = {"000000000000000000100", true, false};
  cp.shards["shardId-00000000000000000002-bbbbbbbb"] = {"000000000000000000200", false, false};
  cp.shards["shardId-00000000000000000003-cccccccc"] = {"", false, true};
  return cp;
}

TEST_F(FileCheckpointStoreTest, SaveLoadReplaceRemove) {
  auto store = FileCheckpointStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto none = (*store)->Load("m");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE((*store)->Save("m", Sample()).ok());
  auto loaded = (*store)->Load("m");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ(**loaded, Sample());

  Checkpoint next = Sample();
  next.shards["shardId-00000000000000000002-bbbbbbbb"].sequence_number = "000000000000000000250";
  ASSERT_TRUE((*store)->Save("m", next).ok());
  // A fresh store on the same directory (a restarted process) sees the replacement, and no
  // temporary file is left behind.
  auto reopened = FileCheckpointStore::Open(dir_);
  ASSERT_TRUE(reopened.ok());
  auto again = (*reopened)->Load("m");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ(**again, next);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "m.checkpoint.json");
  }
  EXPECT_EQ(files, 1);

  ASSERT_TRUE((*reopened)->Remove("m").ok());
  EXPECT_FALSE((*reopened)->Load("m")->has_value());
  EXPECT_TRUE((*reopened)->Remove("m").ok());  // nothing to remove is fine
}

TEST_F(FileCheckpointStoreTest, TornOrForeignFileIsAnError) {
  auto store = FileCheckpointStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  {
    std::ofstream out((*store)->PathFor("m"));
    out << R"({"stream_arn":"x","shards":{"s":{"sequence_numb)";
  }
  auto r = (*store)->Load("m");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIo);
  EXPECT_NE(r.status().message().find("m.checkpoint.json"), std::string::npos);
}

TEST_F(FileCheckpointStoreTest, AtomicReplaceKeepsTheOldFileWhenTheWriteFails) {
  auto store = FileCheckpointStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Save("m", Sample()).ok());
  // A directory where the temporary file should go makes the write fail before the rename.
  std::filesystem::create_directory((*store)->PathFor("m") + ".tmp");
  Checkpoint next = Sample();
  next.stream_arn = "other";
  EXPECT_FALSE((*store)->Save("m", next).ok());
  auto loaded = (*store)->Load("m");
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ(**loaded, Sample());
}

TEST(MemoryCheckpointStoreTest, SaveLoadRemove) {
  MemoryCheckpointStore store;
  EXPECT_FALSE(store.Load("m")->has_value());
  ASSERT_TRUE(store.Save("m", Sample()).ok());
  EXPECT_EQ(**store.Load("m"), Sample());
  ASSERT_TRUE(store.Remove("m").ok());
  EXPECT_FALSE(store.Load("m")->has_value());
}

TEST(CheckpointJsonTest, RoundTrip) {
  auto back = CheckpointFromJson(CheckpointToJson(Sample()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Sample());
  EXPECT_FALSE(CheckpointFromJson("[]").ok());
  EXPECT_FALSE(CheckpointFromJson(R"({"stream_arn":1,"shards":{}})").ok());
}

}  // namespace
}  // namespace cruddur::triggers
