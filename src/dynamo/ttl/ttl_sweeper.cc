#include "dynamo/ttl/ttl_sweeper.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dynamo/api/common.h"
#include "dynamo/api/table_meta.h"

namespace cruddur::dynamo::ttl {
namespace {

// "No more than five years in the past" (Developer Guide, "Using DynamoDB Time to Live"),
// counted as five 365-day years and one leap day.
constexpr int64_t kMaxAgeSeconds = int64_t{5 * 365 + 1} * 86400;

int64_t SystemNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Deletes those of `keys` that are still expired, re-reading each under its write lock: the
// scan read a snapshot, and a writer may have moved the TTL since.
Result<size_t> DeleteIfStillExpired(storage::Engine* engine,
                                    const std::shared_ptr<const storage::TableDef>& table,
                                    const std::string& attribute, int64_t now_seconds,
                                    std::vector<Item> keys) {
  std::vector<std::pair<std::shared_ptr<const storage::TableDef>, Item>> locked;
  locked.reserve(keys.size());
  for (Item& key : keys) locked.emplace_back(table, std::move(key));
  auto batch = engine->BeginWrite(locked);
  size_t deleted = 0;
  for (const auto& [unused, key] : locked) {
    CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> current, batch->Read(*table, key));
    if (current && IsExpired(*current, attribute, now_seconds)) {
      batch->Delete(*table, key, /*by_service=*/true);
      ++deleted;
    }
  }
  if (deleted == 0) return deleted;
  CRUDDUR_RETURN_IF_ERROR(batch->Commit());
  return deleted;
}

// Sweeps one table; a table deleted or replaced meanwhile ends its sweep quietly.
Status SweepTable(storage::Engine* engine, const std::shared_ptr<const storage::TableDef>& table,
                  const std::string& attribute, int64_t now_seconds, size_t batch_size,
                  const std::atomic<bool>* stop, SweepStats* stats) {
  auto items = engine->Scan(*table, nullptr, 0, 1, nullptr);
  std::vector<Item> expired;
  auto flush = [&]() -> Status {
    Result<size_t> deleted =
        DeleteIfStillExpired(engine, table, attribute, now_seconds, std::move(expired));
    expired.clear();
    if (!deleted.ok()) return deleted.TakeStatus();
    stats->deleted += *deleted;
    return Status::Ok();
  };
  while (items->Next()) {
    ++stats->scanned;
    if (!IsExpired(items->item(), attribute, now_seconds)) continue;
    expired.push_back(api::ExtractKey(table->key, items->item()));
    if (expired.size() >= batch_size) {
      CRUDDUR_RETURN_IF_ERROR(flush());
      if (stop != nullptr && stop->load()) return Status::Ok();
    }
  }
  CRUDDUR_RETURN_IF_ERROR(items->status());
  if (!expired.empty()) CRUDDUR_RETURN_IF_ERROR(flush());
  return Status::Ok();
}

}  // namespace

bool IsExpired(const Item& item, const std::string& attribute, int64_t now_seconds) {
  auto it = item.find(attribute);
  if (it == item.end() || it->second.type != AttrType::kN) return false;
  const Decimal& at = it->second.num;
  return at < Decimal::FromInt(now_seconds) && at >= Decimal::FromInt(now_seconds - kMaxAgeSeconds);
}

Result<SweepStats> SweepExpired(storage::Engine* engine, int64_t now_seconds, size_t batch_size,
                                const std::atomic<bool>* stop) {
  SweepStats stats;
  for (const std::string& name : engine->ListTables()) {
    if (stop != nullptr && stop->load()) break;
    std::shared_ptr<const storage::TableDef> table = engine->GetTable(name);
    if (!table) continue;
    Result<api::TableMeta> meta = api::TableMeta::Decode(table->meta);
    if (!meta.ok() || meta->ttl_attribute.empty()) continue;
    ++stats.tables;
    Status st = SweepTable(engine, table, meta->ttl_attribute, now_seconds,
                           std::max<size_t>(batch_size, 1), stop, &stats);
    if (st.code() == ErrorCode::kResourceNotFound) continue;
    CRUDDUR_RETURN_IF_ERROR(st);
  }
  return stats;
}

TtlSweeper::TtlSweeper(storage::Engine* engine, TtlSweeperOptions options)
    : engine_(engine), options_(std::move(options)) {
  if (!options_.now_micros) options_.now_micros = SystemNowMicros;
  thread_ = std::thread([this] { Run(); });
}

TtlSweeper::~TtlSweeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void TtlSweeper::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    int64_t now_seconds = options_.now_micros() / 1000000;
    Result<SweepStats> swept = SweepExpired(engine_, now_seconds, options_.batch_size, &stop_);
    if (!swept.ok()) {
      std::fprintf(stderr, "cruddur dynamodb: TTL sweep failed: %s\n",
                   swept.status().ToString().c_str());
    }
    ++passes_;
    lock.lock();
    cv_.wait_for(lock, options_.period, [this] { return stop_.load(); });
  }
}

}  // namespace cruddur::dynamo::ttl
