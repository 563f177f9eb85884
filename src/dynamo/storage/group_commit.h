// Group commit: writers share the fsyncs of a write-ahead log instead of paying one each.
//
// A writer writes to the log without syncing, then takes a mark that covers its write and asks
// to be told once the log is synced past it (WhenDurable), or blocks until then (WaitDurable).
// One background thread, the syncer, works whenever someone waits: it takes every waiter
// registered so far, reads the current mark, calls the sync function once and completes them
// all. Writes that land during a sync are covered by the next one, which serves all of their
// waiters together, so under load the log is synced about once per fsync time, however many
// writers there are.
//
// Marks: a non-decreasing counter that, read after a write has reached the log (the write call
// returned), is at least that write's own mark; Engine uses RocksDB's last sequence number.
// The `current_mark` function is read by the syncer right before each sync.
//
// Failure: a failed sync fails every waiter it would have served and every later one (the error
// is sticky). After a failed fsync the kernel may have dropped the pages it could not write and
// marked them clean, so a later fsync that succeeds proves nothing about the earlier writes
// (the 2018 "fsyncgate" finding that made PostgreSQL stop on a failed fsync).
//
// Thread-safety: every method may be called from any thread. A `done` callback runs on the
// syncer thread, or inline on the caller's when the answer is already known; it must be short
// (it delays the waiters after it) and must not call WaitDurable.
// Ownership and lifetime: the functions passed in must stay callable until the destructor
// returns. The destructor syncs once more if anyone still waits, completes every waiter and
// joins the syncer; no method may be called once it has begun.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace cruddur::dynamo::storage {

class GroupCommit {
 public:
  using Done = std::function<void(Status)>;

  // Starts the syncer thread.
  GroupCommit(std::function<uint64_t()> current_mark, std::function<Status()> sync);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // True when a sync that succeeded has covered `mark` (and none has failed).
  bool IsDurable(uint64_t mark) const;
  // Calls done(Ok) once the log is synced past `mark`, or done(error) if a sync fails first.
  void WhenDurable(uint64_t mark, Done done);
  // Blocks until WhenDurable would call back; returns what it would pass.
  Status WaitDurable(uint64_t mark);

  // Syncs done so far, failed ones included (for tests and metrics).
  uint64_t syncs() const;

 private:
  void Run();

  const std::function<uint64_t()> current_mark_;
  const std::function<Status()> sync_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // waiters arrived, or stop_ was set
  uint64_t synced_ = 0;         // every mark up to this one is durable
  Status error_;                // the first failed sync's error; sticky
  std::vector<Done> waiting_;   // registered since the syncer last took them
  uint64_t syncs_ = 0;
  bool stop_ = false;
  std::thread syncer_;  // last: starts once everything above is initialized
};

}  // namespace cruddur::dynamo::storage
