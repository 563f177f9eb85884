// Time to Live: the background process that deletes expired items of tables whose TTL is
// enabled (UpdateTimeToLive, stored in the table's api::TableMeta).
//
// An item is expired when its TTL attribute is a top-level Number holding Unix epoch seconds
// earlier than now, and not more than five years earlier (Developer Guide, "Using DynamoDB Time
// to Live": other types, other formats and older timestamps are ignored). Each deletion is a
// storage WriteBatch::Delete with by_service = true, so its stream record is a REMOVE by the
// service (userIdentity dynamodb.amazonaws.com); indexes and stats follow as for any delete.
// Reads are untouched: an expired item stays visible until a sweep deletes it, as on AWS.
//
// Ownership: TtlSweeper starts its thread in the constructor and stops and joins it in the
// destructor; the Engine must outlive it.
// Thread-safety: SweepExpired may run concurrently with any other engine use. A deletion
// re-reads the item under the key's write lock in the batch that deletes it, so an item whose
// TTL was moved to the future (or removed) after the scan saw it is kept.
// Failure modes: SweepExpired reports kIo / kInternal from storage; a table deleted while it is
// swept is skipped. The thread logs a failed pass to stderr and tries again next period.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "dynamo/model/attribute_value.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::ttl {

// Whether `item`'s attribute `attribute` makes it expired at `now_seconds` (see above).
bool IsExpired(const Item& item, const std::string& attribute, int64_t now_seconds);

struct SweepStats {
  size_t tables = 0;   // tables with TTL enabled that were swept
  size_t scanned = 0;  // items read
  size_t deleted = 0;  // items deleted
};

// One pass over every table with TTL enabled, deleting expired items `batch_size` at a time
// (one WriteBatch each, so locks are held briefly and memory stays bounded). Stops early,
// between batches, once *stop becomes true (stop may be null).
Result<SweepStats> SweepExpired(storage::Engine* engine, int64_t now_seconds, size_t batch_size,
                                const std::atomic<bool>* stop);

struct TtlSweeperOptions {
  std::chrono::milliseconds period{60000};  // between the end of one pass and the next
  size_t batch_size = 100;
  // Wall clock in microseconds since the epoch; the system clock when empty. A seam for tests.
  std::function<int64_t()> now_micros;
};

class TtlSweeper {
 public:
  TtlSweeper(storage::Engine* engine, TtlSweeperOptions options);
  ~TtlSweeper();
  TtlSweeper(const TtlSweeper&) = delete;
  TtlSweeper& operator=(const TtlSweeper&) = delete;

  // Passes completed so far (for tests and diagnostics).
  uint64_t passes() const { return passes_.load(); }

 private:
  void Run();

  storage::Engine* engine_;
  TtlSweeperOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> passes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace cruddur::dynamo::ttl
