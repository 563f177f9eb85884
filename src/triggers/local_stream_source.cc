#include "triggers/local_stream_source.h"

#include <algorithm>
#include <cstdlib>

#include "dynamo/api/streams.h"

namespace cruddur::triggers {

LocalStreamSource::LocalStreamSource(dynamo::DynamoClient* client, dynamo::storage::Engine* engine,
                                     std::string region)
    : ClientStreamSource(client), engine_(engine), region_(std::move(region)) {}

uint64_t LocalStreamSource::StreamId(const std::string& arn) {
  {
    std::lock_guard lock(mu_);
    auto it = ids_.find(arn);
    if (it != ids_.end()) return it->second;
  }
  dynamo::api::ApiContext ctx;
  ctx.region = region_;
  for (const dynamo::storage::StreamInfo& info : engine_->ListStreams()) {
    if (dynamo::api::StreamArn(ctx, info.table_name, info.created_micros) == arn) {
      std::lock_guard lock(mu_);
      ids_[arn] = info.id;
      return info.id;
    }
  }
  return 0;
}

// Which records a read has covered: every one up to the newest it returned, or, when it
// returned none, every one committed before it started (the stream's last sequence number
// read beforehand: a record committed later is newer than that). WaitForRecords then waits for
// anything newer, and a record landing between a read and the wait is never slept through.
Result<RecordsPage> LocalStreamSource::GetRecords(const std::string& iterator, int limit) {
  std::string arn = iterator.substr(0, iterator.find('|'));
  uint64_t id = StreamId(arn);
  std::optional<dynamo::storage::StreamInfo> before =
      id != 0 ? engine_->GetStream(id) : std::nullopt;
  Result<RecordsPage> page = ClientStreamSource::GetRecords(iterator, limit);
  if (!page.ok() || id == 0) return page;
  uint64_t covered = 0;
  if (page->records.empty()) {
    covered = before ? before->last_seq : 0;
  } else {
    for (const StreamRecord& record : page->records) {
      covered =
          std::max<uint64_t>(covered, std::strtoull(record.sequence_number.c_str(), nullptr, 10));
    }
  }
  std::lock_guard lock(mu_);
  uint64_t& seen = seen_[id];
  seen = std::max(seen, covered);
  return page;
}

void LocalStreamSource::WaitForRecords(const std::string& stream_arn,
                                       std::chrono::milliseconds max_wait) {
  uint64_t id = StreamId(stream_arn);
  std::optional<dynamo::storage::StreamInfo> info = id != 0 ? engine_->GetStream(id) : std::nullopt;
  // A gone or disabled stream gets no new records: the engine would answer at once, so sleep.
  if (!info || info->disabled_micros != 0) {
    return StreamSource::WaitForRecords(stream_arn, max_wait);
  }
  uint64_t seen = 0;
  {
    std::lock_guard lock(mu_);
    seen = seen_[id];
  }
  engine_->WaitForStream(id, seen, max_wait);
}

}  // namespace cruddur::triggers
