#include "triggers/trigger_runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>

#include "common/json.h"
#include "triggers/failure_destination.h"
#include "triggers/filter.h"
#include "triggers/http_handler.h"

namespace cruddur::triggers {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr size_t kMaxMappingsFileBytes = 4 << 20;
constexpr int kMaxRecordsPerGetRecords = 1000;  // GetRecords' Limit bound

void LogToStderr(std::string_view message) {
  std::string line = "cruddur triggers: ";
  line.append(message);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

milliseconds Backoff(const RunnerOptions& o, int attempt) {
  int64_t wait = o.retry_base.count();
  for (int i = 0; i < attempt && wait < o.retry_cap.count(); ++i) wait *= 2;
  return milliseconds(std::min<int64_t>(wait, o.retry_cap.count()));
}

}  // namespace

// One mapping's worker thread and the state it reports. Everything but the stats and the stop
// flag belongs to the worker thread.
class MappingWorker {
 public:
  MappingWorker(MappingConfig config, bool persistent, std::unique_ptr<Handler> handler,
                std::unique_ptr<FailureDestination> failure, std::optional<FilterCriteria> filter,
                StreamSource* source, CheckpointStore* store, const RunnerOptions* options)
      : handler_(std::move(handler)),
        failure_(std::move(failure)),
        filter_(std::move(filter)),
        source_(source),
        store_(store),
        options_(options) {
    state_.config = std::move(config);
    state_.persistent = persistent;
  }
  ~MappingWorker() {
    RequestStop();
    Join();
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  // Ends the worker's loop. With cancel_running a running handler is stopped too (a removed
  // mapping); without, it may finish its batch (a graceful shutdown), until CancelRunning.
  void RequestStop(bool cancel_running = true) {
    {
      std::lock_guard lock(mu_);
      stop_.store(true);
      if (cancel_running) cancel_.store(true);
    }
    cv_.notify_all();
  }
  void CancelRunning() { cancel_.store(true); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  MappingState State() const {
    std::lock_guard lock(mu_);
    return state_;
  }
  const MappingConfig& config() const { return state_.config; }  // immutable after construction

 private:
  enum class Outcome { kDone, kAborted };
  struct ShardCursor {
    std::string iterator;  // "" = ask for a new one from the checkpoint
  };
  struct PollResult {
    bool progressed = false;
    bool finished = false;  // the shard was read to its end
    bool failed = false;    // the source failed; re-list and back off
  };

  bool stopping() const { return stop_.load(std::memory_order_relaxed); }
  // Sleeps `d` or until stopped; false when stopped.
  bool SleepFor(milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stop_.load(); });
  }
  void Log(const std::string& message) const {
    const std::string line = "[" + state_.config.name + "] " + message;
    if (options_->log) {
      options_->log(line);
    } else {
      LogToStderr(line);
    }
  }
  void SetState(std::string_view s) {
    std::lock_guard lock(mu_);
    state_.state = s;
  }
  void SetError(const std::string& error, std::string_view state = {}) {
    {
      std::lock_guard lock(mu_);
      if (state_.last_error == error && (state.empty() || state_.state == state)) return;
      state_.last_error = error;
      if (!state.empty()) state_.state = state;
    }
    Log(error);
  }

  void Run();
  PollResult PollShard(const std::string& arn, const Shard& shard, Checkpoint* cp);
  Outcome Deliver(const std::string& arn, const std::string& shard_id,
                  std::vector<StreamRecord> records);
  Outcome DeliverBatch(const Batch& batch);
  Outcome SendToFailure(const Batch& batch, const Status& error, int attempts);
  void SaveCheckpoint(const Checkpoint& cp);

  std::unique_ptr<Handler> handler_;
  std::unique_ptr<FailureDestination> failure_;
  std::optional<FilterCriteria> filter_;
  StreamSource* source_;
  CheckpointStore* store_;
  const RunnerOptions* options_;
  std::map<std::string, ShardCursor> cursors_;  // worker thread only
  std::optional<Checkpoint> saved_;             // worker thread only: the last one stored

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cancel_{false};  // stops a running handler (Batch::cancel)
  MappingState state_;               // guarded by mu_ (config is immutable)
  std::thread thread_;
};

void MappingWorker::Run() {
  const MappingConfig& config = state_.config;
  Checkpoint cp;
  bool loaded = false;
  bool latest_pending = false;  // apply LATEST to the shards of a newly seen stream
  std::string arn;
  std::vector<Shard> shards;
  bool need_list = true;
  Clock::time_point listed_at;
  while (!stopping()) {
    if (!loaded) {
      auto r = store_->Load(config.name);
      if (!r.ok()) {
        SetError("Cannot load the checkpoint: " + r.status().ToString(), "waiting");
        SleepFor(options_->error_wait);
        continue;
      }
      if (*r) {
        cp = std::move(**r);
        saved_ = cp;
      }
      loaded = true;
    }
    if (need_list || Clock::now() - listed_at >= options_->shard_refresh) {
      auto latest = source_->LatestStreamArn(config.table);
      if (!latest.ok()) {
        SetError(latest.status().ToString(), "waiting");
        SleepFor(options_->error_wait);
        continue;
      }
      if (cp.stream_arn != *latest) {
        if (!cp.stream_arn.empty()) Log("Following the new stream " + *latest);
        cp = Checkpoint{*latest, {}};
        cursors_.clear();
        latest_pending = config.start == StartingPosition::kLatest;
      }
      arn = *latest;
      auto listed = source_->ListShards(arn);
      if (!listed.ok()) {
        SetError(listed.status().ToString(), "waiting");
        SleepFor(options_->error_wait);
        continue;
      }
      shards = std::move(listed).value();
      listed_at = Clock::now();
      need_list = false;
      {
        std::lock_guard lock(mu_);
        state_.stream_arn = arn;
        if (state_.state == "starting" || state_.state == "waiting") state_.state = "running";
      }
      std::set<std::string> ids;
      for (const Shard& s : shards) ids.insert(s.shard_id);
      // Shards trimmed from the stream need no position any more.
      std::erase_if(cp.shards, [&ids](const auto& e) { return !ids.contains(e.first); });
      if (latest_pending) {
        // LATEST: what is in the stream now is skipped; closed shards entirely, open ones from
        // their tip.
        for (const Shard& s : shards) {
          if (s.closed()) {
            cp.shards[s.shard_id].finished = true;
          } else if (!cp.shards[s.shard_id].finished) {
            cp.shards[s.shard_id].at_latest = true;
          }
        }
        latest_pending = false;
      }
      SaveCheckpoint(cp);
    }

    std::set<std::string> listed_ids;
    for (const Shard& s : shards) listed_ids.insert(s.shard_id);
    bool progressed = false, failed = false;
    for (const Shard& shard : shards) {
      if (stopping()) break;
      auto own = cp.shards.find(shard.shard_id);
      if (own != cp.shards.end() && own->second.finished) continue;
      if (!shard.parent_shard_id.empty() && listed_ids.contains(shard.parent_shard_id)) {
        auto parent = cp.shards.find(shard.parent_shard_id);
        if (parent == cp.shards.end() || !parent->second.finished) continue;  // lineage
      }
      const PollResult r = PollShard(arn, shard, &cp);
      progressed |= r.progressed;
      failed |= r.failed;
      if (r.finished || r.failed) need_list = true;
    }
    if (stopping()) break;
    if (failed && !progressed) {
      SleepFor(options_->error_wait);
    } else if (!progressed) {
      source_->WaitForRecords(arn, options_->idle_wait);
    }
  }
}

MappingWorker::PollResult MappingWorker::PollShard(const std::string& arn, const Shard& shard,
                                                   Checkpoint* cp) {
  const MappingConfig& config = state_.config;
  PollResult result;
  ShardCursor& cursor = cursors_[shard.shard_id];
  ShardPosition& pos = cp->shards[shard.shard_id];
  if (cursor.iterator.empty()) {
    IteratorType type = IteratorType::kTrimHorizon;
    if (!pos.sequence_number.empty()) {
      type = IteratorType::kAfterSequenceNumber;
    } else if (pos.at_latest) {
      type = IteratorType::kLatest;
    }
    auto it = source_->GetShardIterator(arn, shard.shard_id, type, pos.sequence_number);
    if (!it.ok() && it.status().code() == ErrorCode::kTrimmedDataAccess &&
        type == IteratorType::kAfterSequenceNumber) {
      // The records after our position outlived the stream's retention: they are gone, so
      // carry on from the oldest record still there.
      Log("Records of shard " + shard.shard_id + " after " + pos.sequence_number +
          " were trimmed before delivery; continuing from TRIM_HORIZON");
      it = source_->GetShardIterator(arn, shard.shard_id, IteratorType::kTrimHorizon, "");
    }
    if (!it.ok()) {
      SetError("GetShardIterator " + shard.shard_id + ": " + it.status().ToString());
      result.failed = true;
      return result;
    }
    cursor.iterator = std::move(it).value();
  }

  std::vector<StreamRecord> records;
  bool drained = false;
  const Clock::time_point window_end = Clock::now() + milliseconds(config.window_ms);
  while (!stopping()) {
    const int want = std::min<int>(kMaxRecordsPerGetRecords,
                                   config.batch_size - static_cast<int>(records.size()));
    auto page = source_->GetRecords(cursor.iterator, want);
    if (!page.ok()) {
      // A fresh iterator is taken from the checkpoint next time; records read so far are
      // delivered first, and the checkpoint then points after them.
      cursor.iterator.clear();
      if (page.status().code() != ErrorCode::kExpiredIterator) {
        SetError("GetRecords " + shard.shard_id + ": " + page.status().ToString());
        result.failed = records.empty();
      }
      break;
    }
    const size_t got = page->records.size();
    for (StreamRecord& r : page->records) records.push_back(std::move(r));
    if (!page->next_iterator) {
      drained = true;
      break;
    }
    cursor.iterator = std::move(*page->next_iterator);
    if (static_cast<int>(records.size()) >= config.batch_size) break;
    if (static_cast<int>(got) == want) continue;  // more may be waiting already
    if (records.empty()) break;                   // nothing new: do not hold the shard
    const Clock::time_point now = Clock::now();
    if (now >= window_end) break;
    source_->WaitForRecords(
        arn,
        std::min(options_->idle_wait,
                 std::chrono::duration_cast<milliseconds>(window_end - now) + milliseconds(1)));
  }
  if (stopping()) return result;  // undelivered records are read again after a restart

  if (!records.empty()) {
    const std::string last = records.back().sequence_number;
    if (Deliver(arn, shard.shard_id, std::move(records)) == Outcome::kAborted) {
      cursors_[shard.shard_id].iterator.clear();
      return result;
    }
    pos.sequence_number = last;
    pos.at_latest = false;
    result.progressed = true;
    std::lock_guard lock(mu_);
    state_.last_sequence_number = last;
  }
  if (drained) {
    pos.finished = true;
    cursors_.erase(shard.shard_id);
    result.finished = true;
    result.progressed = true;
  }
  if (result.progressed) SaveCheckpoint(*cp);
  return result;
}

MappingWorker::Outcome MappingWorker::Deliver(const std::string& arn, const std::string& shard_id,
                                              std::vector<StreamRecord> records) {
  Batch batch;
  batch.mapping = state_.config.name;
  batch.stream_arn = arn;
  batch.shard_id = shard_id;
  batch.cancel = &cancel_;
  const size_t total = records.size();
  if (filter_) {
    for (StreamRecord& r : records) {
      if (filter_->Matches(std::string_view(r.json))) batch.records.push_back(std::move(r));
    }
  } else {
    batch.records = std::move(records);
  }
  if (batch.records.size() < total) {
    std::lock_guard lock(mu_);
    state_.records_filtered += total - batch.records.size();
  }
  if (batch.records.empty()) return Outcome::kDone;
  return DeliverBatch(batch);
}

MappingWorker::Outcome MappingWorker::DeliverBatch(const Batch& batch) {
  const MappingConfig& config = state_.config;
  for (int attempt = 0;; ++attempt) {
    if (stopping()) return Outcome::kAborted;
    Status st = handler_->Handle(batch);
    if (st.ok()) {
      std::lock_guard lock(mu_);
      ++state_.batches_ok;
      state_.records_delivered += batch.records.size();
      state_.state = "running";
      return Outcome::kDone;
    }
    if (stopping()) return Outcome::kAborted;
    SetError("Batch " + batch.records.front().sequence_number + ".." +
                 batch.records.back().sequence_number + " of " + batch.shard_id + " (" +
                 std::to_string(batch.records.size()) + " records), attempt " +
                 std::to_string(attempt + 1) + ": " + st.message(),
             "retrying");
    if (config.bisect && batch.records.size() > 1) {
      const size_t half = batch.records.size() / 2;
      Batch first = batch, second = batch;
      first.records.erase(first.records.begin() + static_cast<ptrdiff_t>(half),
                          first.records.end());
      second.records.erase(second.records.begin(),
                           second.records.begin() + static_cast<ptrdiff_t>(half));
      if (DeliverBatch(first) == Outcome::kAborted) return Outcome::kAborted;
      return DeliverBatch(second);
    }
    if (config.retries >= 0 && attempt >= config.retries) {
      return SendToFailure(batch, st, attempt + 1);
    }
    if (!SleepFor(Backoff(*options_, attempt))) return Outcome::kAborted;
  }
}

MappingWorker::Outcome MappingWorker::SendToFailure(const Batch& batch, const Status& error,
                                                    int attempts) {
  const std::string range = batch.records.front().sequence_number + ".." +
                            batch.records.back().sequence_number + " of " + batch.shard_id;
  if (!failure_) {
    Log("Batch " + range + " failed " + std::to_string(attempts) +
        " times and there is no on-failure destination: dropped");
  } else {
    for (int attempt = 0;; ++attempt) {
      Status st = failure_->Send({&batch, error.message(), attempts});
      if (st.ok()) {
        Log("Batch " + range + " failed " + std::to_string(attempts) + " times: sent to " +
            state_.config.on_failure);
        break;
      }
      if (st.code() == ErrorCode::kValidation) {
        // Will never be accepted (e.g. over DynamoDB's item size): the log is the last copy.
        Log("Batch " + range + " cannot be stored in " + state_.config.on_failure + " (" +
            st.message() + "); its event was: " + BuildLambdaEvent(batch));
        break;
      }
      SetError("On-failure destination " + state_.config.on_failure + ": " + st.ToString());
      if (!SleepFor(Backoff(*options_, attempt))) return Outcome::kAborted;
    }
  }
  std::lock_guard lock(mu_);
  ++state_.batches_failed;
  state_.state = "running";
  return Outcome::kDone;
}

void MappingWorker::SaveCheckpoint(const Checkpoint& cp) {
  if (saved_ && *saved_ == cp) return;  // the periodic re-listing changes nothing most times
  // A failed save is not fatal: the position is kept in memory, and a restart before the next
  // successful save delivers the batch again (at least once).
  if (Status st = store_->Save(state_.config.name, cp); !st.ok()) {
    SetError("Cannot save the checkpoint: " + st.ToString());
    return;
  }
  saved_ = cp;
}

std::string MappingStatesToJson(const std::vector<MappingState>& states) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("Mappings");
  w.StartArray();
  for (const MappingState& s : states) {
    // The config object's keys, then the state's, in one object.
    const std::string config = MappingToJson(s.config);
    json::Document doc;
    if (!json::Parse(config, &doc).ok()) continue;
    auto& a = doc.GetAllocator();
    doc.AddMember("persistent", s.persistent, a);
    doc.AddMember("state", json::Value(s.state, a), a);
    doc.AddMember("stream_arn", json::Value(s.stream_arn, a), a);
    doc.AddMember("last_sequence_number", json::Value(s.last_sequence_number, a), a);
    doc.AddMember("last_error", json::Value(s.last_error, a), a);
    doc.AddMember("batches_ok", s.batches_ok, a);
    doc.AddMember("batches_failed", s.batches_failed, a);
    doc.AddMember("records_delivered", s.records_delivered, a);
    doc.AddMember("records_filtered", s.records_filtered, a);
    doc.Accept(w);
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<std::unique_ptr<TriggerRunner>> TriggerRunner::Create(StreamSource* source,
                                                             dynamo::DynamoClient* client,
                                                             RunnerOptions options) {
  std::unique_ptr<CheckpointStore> store;
  if (options.state_dir.empty()) {
    store = std::make_unique<MemoryCheckpointStore>();
  } else {
    CRUDDUR_ASSIGN_OR_RETURN(store, FileCheckpointStore::Open(options.state_dir));
  }
  return CreateWithStore(source, client, std::move(options), std::move(store));
}

std::unique_ptr<TriggerRunner> TriggerRunner::CreateWithStore(
    StreamSource* source, dynamo::DynamoClient* client, RunnerOptions options,
    std::unique_ptr<CheckpointStore> store) {
  return std::unique_ptr<TriggerRunner>(
      new TriggerRunner(source, client, std::move(options), std::move(store)));
}

TriggerRunner::TriggerRunner(StreamSource* source, dynamo::DynamoClient* client,
                             RunnerOptions options, std::unique_ptr<CheckpointStore> store)
    : source_(source), client_(client), options_(std::move(options)), store_(std::move(store)) {}

TriggerRunner::~TriggerRunner() { Stop(); }

std::string TriggerRunner::MappingsFilePath() const {
  return (std::filesystem::path(options_.state_dir) / "mappings.json").string();
}

Result<std::unique_ptr<MappingWorker>> TriggerRunner::MakeWorker(const MappingConfig& config,
                                                                 bool persistent) {
  CRUDDUR_RETURN_IF_ERROR(ValidateMapping(config));
  std::unique_ptr<Handler> handler;
  const milliseconds timeout(config.timeout_ms);
  switch (config.handler_kind) {
    case HandlerKind::kCommand:
      handler = std::make_unique<CommandHandler>(
          config.name, config.handler, CommandEnvironment{options_.region, options_.engine_url},
          timeout, options_.command_output);
      break;
    case HandlerKind::kUrl:
      handler = std::make_unique<HttpPostHandler>(config.handler, timeout);
      break;
    case HandlerKind::kNative: {
      NativeHandler fn =
          options_.natives != nullptr ? options_.natives->Find(config.handler) : NativeHandler();
      if (!fn) {
        return ValidationError("Trigger native: no handler named '" + config.handler +
                               "' is registered");
      }
      handler = std::make_unique<NativeHandlerAdapter>(std::move(fn));
      break;
    }
  }
  std::unique_ptr<FailureDestination> failure;
  if (!config.on_failure.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(failure, MakeFailureDestination(config.on_failure, client_));
  }
  std::optional<FilterCriteria> filter;
  if (!config.filter.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(FilterCriteria f, FilterCriteria::Parse(config.filter));
    filter.emplace(std::move(f));
  }
  return std::make_unique<MappingWorker>(config, persistent, std::move(handler), std::move(failure),
                                         std::move(filter), source_, store_.get(), &options_);
}

Status TriggerRunner::Start(const std::vector<MappingConfig>& configured) {
  std::vector<MappingConfig> persisted;
  if (!options_.state_dir.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(std::optional<std::string> text,
                             ReadSmallFile(MappingsFilePath(), kMaxMappingsFileBytes));
    if (text) {
      auto parsed = ParseMappingsJson(*text);
      if (!parsed.ok()) {
        return ValidationError(MappingsFilePath() + ": " + parsed.status().message());
      }
      persisted = std::move(parsed).value();
    }
  }
  std::map<std::string, std::unique_ptr<MappingWorker>> built;
  for (const MappingConfig& c : configured) {
    if (built.contains(c.name)) return ValidationError("Trigger '" + c.name + "' is given twice");
    auto w = MakeWorker(c, false);
    if (!w.ok()) return ValidationError("Trigger '" + c.name + "': " + w.status().message());
    built[c.name] = std::move(w).value();
  }
  std::vector<MappingConfig> shadowed;
  for (const MappingConfig& c : persisted) {
    if (built.contains(c.name)) {  // the configured one wins
      shadowed.push_back(c);
      continue;
    }
    auto w = MakeWorker(c, true);
    if (!w.ok()) {
      return ValidationError("Trigger '" + c.name + "' in " + MappingsFilePath() + ": " +
                             w.status().message());
    }
    built[c.name] = std::move(w).value();
  }
  std::lock_guard lock(mu_);
  if (stopped_) return InternalError("The trigger runner is stopped");
  for (auto& [name, worker] : built) {
    if (workers_.contains(name) || removing_.contains(name)) {
      return InUseError("Trigger " + name + " already exists");
    }
  }
  for (auto& [name, worker] : built) {
    worker->Start();
    workers_[name] = std::move(worker);
  }
  shadowed_ = std::move(shadowed);
  return Status::Ok();
}

Status TriggerRunner::AddMapping(const MappingConfig& config) {
  CRUDDUR_ASSIGN_OR_RETURN(std::unique_ptr<MappingWorker> worker, MakeWorker(config, true));
  std::lock_guard lock(mu_);
  if (stopped_) return InternalError("The trigger runner is stopped");
  if (workers_.contains(config.name) || removing_.contains(config.name)) {
    return InUseError("Trigger " + config.name + " already exists");
  }
  MappingWorker* w = worker.get();
  workers_[config.name] = std::move(worker);
  // The new mapping replaces a shadowed one of the same name in the file.
  std::vector<MappingConfig> shadowed = shadowed_;
  std::erase_if(shadowed_, [&config](const MappingConfig& c) { return c.name == config.name; });
  if (Status st = WriteMappingsFileLocked(); !st.ok()) {
    workers_.erase(config.name);
    shadowed_ = std::move(shadowed);
    return st;
  }
  w->Start();
  return Status::Ok();
}

Status TriggerRunner::RemoveMapping(const std::string& name) {
  std::unique_ptr<MappingWorker> worker;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(name);
    if (it == workers_.end()) return NotFoundError("Trigger " + name + " does not exist");
    worker = std::move(it->second);
    workers_.erase(it);
    removing_.insert(name);
    if (worker->State().persistent) {
      if (Status st = WriteMappingsFileLocked(); !st.ok()) {
        workers_[name] = std::move(worker);
        removing_.erase(name);
        return st;
      }
    }
  }
  // Joined outside the lock: listing and other mappings go on meanwhile.
  worker->RequestStop();
  worker->Join();
  Status st = store_->Remove(name);
  std::lock_guard lock(mu_);
  removing_.erase(name);
  return st;
}

std::vector<MappingState> TriggerRunner::ListMappings() const {
  std::lock_guard lock(mu_);
  std::vector<MappingState> out;
  out.reserve(workers_.size());
  for (const auto& [name, worker] : workers_) out.push_back(worker->State());
  return out;
}

void TriggerRunner::Stop() {
  std::map<std::string, std::unique_ptr<MappingWorker>> workers;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    workers.swap(workers_);
  }
  // All are told first so they wind down in parallel, then joined. A handler in the middle of
  // a batch gets a grace period to finish it (so a clean shutdown does not redeliver a batch
  // whose work is done), then is cancelled.
  for (auto& [name, worker] : workers) worker->RequestStop(/*cancel_running=*/false);
  std::mutex mu;
  std::condition_variable cv;
  bool joined = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, options_.stop_grace, [&] { return joined; })) {
      for (auto& [name, worker] : workers) worker->CancelRunning();
    }
  });
  for (auto& [name, worker] : workers) worker->Join();
  {
    std::lock_guard lock(mu);
    joined = true;
  }
  cv.notify_all();
  watchdog.join();
}

Status TriggerRunner::WriteMappingsFileLocked() {
  if (options_.state_dir.empty()) return Status::Ok();
  std::vector<MappingConfig> persistent = shadowed_;
  for (const auto& [name, worker] : workers_) {
    if (worker->State().persistent) persistent.push_back(worker->config());
  }
  return WriteFileAtomically(MappingsFilePath(), MappingsToJson(persistent));
}

}  // namespace cruddur::triggers
