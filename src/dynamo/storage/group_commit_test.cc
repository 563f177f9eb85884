#include "dynamo/storage/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace cruddur::dynamo::storage {
namespace {

// A log whose writes bump a counter (the mark) and whose sync takes `sync_time` and records
// the mark it covered.
struct FakeLog {
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> durable{0};  // the mark the last successful sync covered
  std::atomic<int> syncs{0};
  std::chrono::milliseconds sync_time{0};
  Status fail;

  uint64_t Write() { return ++written; }
  std::function<uint64_t()> Mark() {
    return [this] { return written.load(); };
  }
  std::function<Status()> Sync() {
    return [this] {
      uint64_t covered = written.load();
      std::this_thread::sleep_for(sync_time);
      ++syncs;
      if (!fail.ok()) return fail;
      durable = covered;
      return Status::Ok();
    };
  }
};

TEST(GroupCommitTest, WaitReturnsOnceASyncCoversTheMark) {
  FakeLog log;
  GroupCommit commit(log.Mark(), log.Sync());
  uint64_t mark = log.Write();
  EXPECT_FALSE(commit.IsDurable(mark));
  EXPECT_TRUE(commit.WaitDurable(mark).ok());
  EXPECT_GE(log.durable.load(), mark);
  EXPECT_TRUE(commit.IsDurable(mark));
  EXPECT_EQ(commit.syncs(), 1u);
}

TEST(GroupCommitTest, AnAlreadyDurableMarkIsAnsweredInlineWithoutASync) {
  FakeLog log;
  GroupCommit commit(log.Mark(), log.Sync());
  uint64_t mark = log.Write();
  ASSERT_TRUE(commit.WaitDurable(mark).ok());
  std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  commit.WhenDurable(mark, [&](Status status) {
    EXPECT_TRUE(status.ok());
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(commit.syncs(), 1u);
}

TEST(GroupCommitTest, ConcurrentWritersShareSyncs) {
  FakeLog log;
  log.sync_time = std::chrono::milliseconds(20);
  GroupCommit commit(log.Mark(), log.Sync());
  constexpr int kWriters = 64;
  std::vector<std::thread> writers;
  std::atomic<int> covered{0};
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&] {
      uint64_t mark = log.Write();
      ASSERT_TRUE(commit.WaitDurable(mark).ok());
      if (log.durable.load() >= mark) ++covered;
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(covered.load(), kWriters);
  // One sync per writer would be 64; writers that arrive during a sync share the next one.
  EXPECT_LT(commit.syncs(), static_cast<uint64_t>(kWriters / 4));
}

TEST(GroupCommitTest, CallbacksRunOnTheSyncerWhenTheyHadToWait) {
  FakeLog log;
  GroupCommit commit(log.Mark(), log.Sync());
  std::promise<std::thread::id> ran_on;
  commit.WhenDurable(log.Write(), [&](Status status) {
    EXPECT_TRUE(status.ok());
    ran_on.set_value(std::this_thread::get_id());
  });
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
}

TEST(GroupCommitTest, AFailedSyncFailsItsWaitersAndEveryLaterOne) {
  FakeLog log;
  log.fail = IoError("fsync: Input/output error");
  GroupCommit commit(log.Mark(), log.Sync());
  uint64_t first = log.Write();
  Status status = commit.WaitDurable(first);
  EXPECT_EQ(status.code(), ErrorCode::kIo);
  EXPECT_FALSE(commit.IsDurable(first));
  // A later sync could succeed and still prove nothing about the lost pages: no more syncs.
  log.fail = Status::Ok();
  EXPECT_EQ(commit.WaitDurable(log.Write()).code(), ErrorCode::kIo);
  EXPECT_FALSE(commit.IsDurable(0));
  EXPECT_EQ(log.syncs.load(), 1);
}

TEST(GroupCommitTest, DestructionCompletesPendingWaiters) {
  FakeLog log;
  log.sync_time = std::chrono::milliseconds(30);
  std::atomic<int> done{0};
  {
    GroupCommit commit(log.Mark(), log.Sync());
    for (int i = 0; i < 5; ++i) {
      commit.WhenDurable(log.Write(), [&](Status status) {
        EXPECT_TRUE(status.ok());
        ++done;
      });
    }
  }
  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(log.durable.load(), 5u);
}

}  // namespace
}  // namespace cruddur::dynamo::storage
