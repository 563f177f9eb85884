// The runner against an in-memory StreamSource that behaves as the Streams API does (shards with
// parents, closed shards without NextShardIterator, expiring iterators), with native handlers
// recording what they see. Waits are bounded and generous (kWait), so a slow machine makes the
// tests slow, not flaky.
#include "triggers/trigger_runner.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kWait = std::chrono::seconds(20);
constexpr char kTable[] = "cruddur-messages";
constexpr char kArn[] =
    "arn:aws:dynamodb:us-east-1:000000000000:table/cruddur-messages/stream/2026-01-01T00:00:00.000";

class FakeStreamSource : public StreamSource {
 public:
  void SetStream(const std::string& table, const std::string& arn) {
    std::lock_guard lock(mu_);
    tables_[table] = arn;
  }
  void AddShard(const std::string& id, const std::string& parent = "", bool list_first = false) {
    std::lock_guard lock(mu_);
    FakeShard s;
    s.shard.shard_id = id;
    s.shard.parent_shard_id = parent;
    if (list_first) {
      order_.insert(order_.begin(), id);
    } else {
      order_.push_back(id);
    }
    shards_[id] = std::move(s);
  }
  // Appends a record; returns its sequence number.
  std::string Append(const std::string& shard, const std::string& key,
                     const std::string& event_name = "INSERT") {
    std::string seq;
    {
      std::lock_guard lock(mu_);
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%021d", ++next_seq_);
      seq = buf;
      StreamRecord r;
      r.sequence_number = seq;
      r.event_name = event_name;
      r.json = R"({"eventID":"e)" + seq + R"(","eventName":")" + event_name +
               R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",)"
               R"("dynamodb":{"Keys":{"pk":{"S":")" +
               key + R"("}},"NewImage":{"pk":{"S":")" + key + R"("}},"SequenceNumber":")" + seq +
               R"(","SizeBytes":10,"StreamViewType":"NEW_IMAGE"}})";
      FakeShard& s = shards_.at(shard);
      if (s.shard.starting_sequence_number.empty()) s.shard.starting_sequence_number = seq;
      s.records.push_back(std::move(r));
    }
    cv_.notify_all();
    return seq;
  }
  void Close(const std::string& shard) {
    std::lock_guard lock(mu_);
    FakeShard& s = shards_.at(shard);
    s.shard.ending_sequence_number = s.records.empty() ? s.shard.starting_sequence_number + "0"
                                                       : s.records.back().sequence_number;
    if (s.shard.ending_sequence_number.empty()) s.shard.ending_sequence_number = "0";
  }
  // Drops the shard's first `n` records, as retention does.
  void Trim(const std::string& shard, size_t n) {
    std::lock_guard lock(mu_);
    auto& records = shards_.at(shard).records;
    trimmed_before_[shard] = records[n - 1].sequence_number;
    records.erase(records.begin(), records.begin() + static_cast<ptrdiff_t>(n));
  }
  // Every iterator handed out so far expires.
  void ExpireIterators() {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  int expired_answers() const {
    std::lock_guard lock(mu_);
    return expired_answers_;
  }

  Result<std::string> LatestStreamArn(const std::string& table) override {
    std::lock_guard lock(mu_);
    auto it = tables_.find(table);
    if (it == tables_.end()) return NotFoundError("Table " + table + " has no enabled stream");
    return it->second;
  }
  Result<std::vector<Shard>> ListShards(const std::string& /*arn*/) override {
    std::lock_guard lock(mu_);
    std::vector<Shard> out;
    for (const std::string& id : order_) out.push_back(shards_.at(id).shard);
    return out;
  }
  Result<std::string> GetShardIterator(const std::string& /*arn*/, const std::string& shard_id,
                                       IteratorType type, const std::string& seq) override {
    std::lock_guard lock(mu_);
    auto it = shards_.find(shard_id);
    if (it == shards_.end()) return NotFoundError("no shard " + shard_id);
    const auto& records = it->second.records;
    size_t index = 0;
    switch (type) {
      case IteratorType::kTrimHorizon:
        index = 0;
        break;
      case IteratorType::kLatest:
        index = records.size();
        break;
      case IteratorType::kAtSequenceNumber:
      case IteratorType::kAfterSequenceNumber: {
        size_t i = 0;
        while (i < records.size() && records[i].sequence_number != seq) ++i;
        if (i == records.size() && trimmed_before_.contains(shard_id) &&
            seq <= trimmed_before_[shard_id]) {
          return Status(ErrorCode::kTrimmedDataAccess, "trimmed");
        }
        if (i == records.size()) return ValidationError("no sequence number " + seq);
        index = type == IteratorType::kAtSequenceNumber ? i : i + 1;
        break;
      }
    }
    ++iterators_issued_;
    return shard_id + "|" + std::to_string(index) + "|" + std::to_string(generation_);
  }
  Result<RecordsPage> GetRecords(const std::string& iterator, int limit) override {
    std::lock_guard lock(mu_);
    const size_t a = iterator.find('|'), b = iterator.rfind('|');
    const std::string shard_id = iterator.substr(0, a);
    size_t index = std::stoul(iterator.substr(a + 1, b - a - 1));
    const int generation = std::stoi(iterator.substr(b + 1));
    if (generation != generation_) {
      ++expired_answers_;
      return Status(ErrorCode::kExpiredIterator, "Iterator expired");
    }
    const FakeShard& s = shards_.at(shard_id);
    RecordsPage page;
    while (index < s.records.size() && static_cast<int>(page.records.size()) < limit) {
      page.records.push_back(s.records[index++]);
    }
    if (!(s.shard.closed() && index == s.records.size())) {
      page.next_iterator =
          shard_id + "|" + std::to_string(index) + "|" + std::to_string(generation);
    }
    return page;
  }
  void WaitForRecords(const std::string& /*arn*/, milliseconds max_wait) override {
    std::unique_lock lock(mu_);
    const int seen = next_seq_;
    cv_.wait_for(lock, max_wait, [&] { return next_seq_ != seen; });
  }

 private:
  struct FakeShard {
    Shard shard;
    std::vector<StreamRecord> records;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> tables_;
  std::map<std::string, FakeShard> shards_;
  std::map<std::string, std::string> trimmed_before_;  // shard -> last trimmed sequence number
  std::vector<std::string> order_;
  int next_seq_ = 0;
  int generation_ = 0;
  int expired_answers_ = 0;
  int iterators_issued_ = 0;
};

// Records every batch a native handler receives; fails batches the predicate picks.
class Recorder {
 public:
  NativeHandler Handler() {
    return [this](const Batch& b) -> Status {
      std::vector<std::string> keys;
      for (const StreamRecord& r : b.records) keys.push_back(KeyOf(r));
      bool fail = false;
      {
        std::lock_guard lock(mu_);
        calls_.push_back(keys);
        fail = fail_ && fail_(keys);
      }
      if (fail) return InternalError("handler refused " + std::to_string(keys.size()));
      std::lock_guard lock(mu_);
      delivered_.push_back(keys);
      return Status::Ok();
    };
  }
  void FailWhen(std::function<bool(const std::vector<std::string>&)> pred) {
    std::lock_guard lock(mu_);
    fail_ = std::move(pred);
  }
  std::vector<std::vector<std::string>> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<std::vector<std::string>> delivered() const {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  std::vector<std::string> DeliveredKeys() const {
    std::vector<std::string> out;
    for (const auto& b : delivered()) out.insert(out.end(), b.begin(), b.end());
    return out;
  }
  static std::string KeyOf(const StreamRecord& r) {
    json::Document doc;
    if (!json::Parse(r.json, &doc).ok()) return "?";
    return doc["dynamodb"]["Keys"]["pk"]["S"].GetString();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<std::string>> calls_, delivered_;
  std::function<bool(const std::vector<std::string>&)> fail_;
};

bool WaitFor(const std::function<bool()>& pred) {
  const auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return pred();
}

std::vector<std::string> Keys(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

class TriggerRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cruddur-runner-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    source_.SetStream(kTable, kArn);
    source_.AddShard("shardId-00000000000000000001-00000001");
    natives_.Register("recorder", recorder_.Handler());
  }
  void TearDown() override {
    runner_.reset();
    std::filesystem::remove_all(dir_);
  }

  RunnerOptions Options(bool durable = true) {
    RunnerOptions o;
    o.state_dir = durable ? dir_ + "/state" : "";
    o.idle_wait = milliseconds(20);
    o.error_wait = milliseconds(20);
    o.retry_base = milliseconds(1);
    o.retry_cap = milliseconds(4);
    o.shard_refresh = milliseconds(20);
    o.natives = &natives_;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      log_.emplace_back(line);
    };
    return o;
  }
  void StartRunner(const std::vector<MappingConfig>& configs, bool durable = true) {
    auto r = TriggerRunner::Create(&source_, nullptr, Options(durable));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    runner_ = std::move(r).value();
    Status st = runner_->Start(configs);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static MappingConfig Config(const std::string& spec) {
    auto c = ParseMappingSpec(spec);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : MappingConfig{};
  }
  MappingState StateOf(const std::string& name) {
    for (const MappingState& s : runner_->ListMappings()) {
      if (s.config.name == name) return s;
    }
    return {};
  }
  std::vector<std::string> ReadLines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  static constexpr char kShard1[] = "shardId-00000000000000000001-00000001";
  std::string dir_;
  FakeStreamSource source_;
  NativeHandlerRegistry natives_;
  Recorder recorder_;
  std::unique_ptr<TriggerRunner> runner_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(TriggerRunnerTest, DeliversInOrderInBatchesAndCheckpoints) {
  for (int i = 1; i <= 25; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  StartRunner({Config("name=m,table=cruddur-messages,batch-size=10,native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 25; }));
  EXPECT_EQ(recorder_.DeliveredKeys(), Keys("k", 1, 25));
  for (const auto& batch : recorder_.delivered()) EXPECT_LE(batch.size(), 10u);
  EXPECT_EQ(recorder_.delivered().front().size(), 10u);

  const std::string last = source_.Append(kShard1, "k26");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 26; }));
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").last_sequence_number == last; }));
  const MappingState s = StateOf("m");
  EXPECT_EQ(s.stream_arn, kArn);
  EXPECT_EQ(s.records_delivered, 26u);
  EXPECT_EQ(s.batches_failed, 0u);
  EXPECT_EQ(s.state, "running");
  runner_->Stop();

  auto store = FileCheckpointStore::Open(dir_ + "/state");
  ASSERT_TRUE(store.ok());
  auto cp = (*store)->Load("m");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->stream_arn, kArn);
  EXPECT_EQ((*cp)->shards.at(kShard1).sequence_number, last);
}

TEST_F(TriggerRunnerTest, ChildShardWaitsForItsParent) {
  source_.Append(kShard1, "p1");
  source_.Append(kShard1, "p2");
  // The child is listed before its parent, and has records before the parent is drained.
  source_.AddShard("shardId-00000000000000000002-00000002", kShard1, /*list_first=*/true);
  source_.Append("shardId-00000000000000000002-00000002", "c1");
  source_.Append(kShard1, "p3");
  source_.Append("shardId-00000000000000000002-00000002", "c2");
  StartRunner({Config("name=m,table=cruddur-messages,batch-size=1,native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 3; }));
  std::this_thread::sleep_for(milliseconds(100));
  // The parent is still open: nothing of the child yet.
  EXPECT_EQ(recorder_.DeliveredKeys(), (std::vector<std::string>{"p1", "p2", "p3"}));
  source_.Close(kShard1);
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 5; }));
  EXPECT_EQ(recorder_.DeliveredKeys(), (std::vector<std::string>{"p1", "p2", "p3", "c1", "c2"}));
  source_.Append("shardId-00000000000000000002-00000002", "c3");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 6; }));
}

TEST_F(TriggerRunnerTest, RetriesThenSendsTheWholeBatchToTheFailureFile) {
  recorder_.FailWhen([](const std::vector<std::string>& keys) {
    return std::find(keys.begin(), keys.end(), "bad") != keys.end();
  });
  source_.Append(kShard1, "a");
  source_.Append(kShard1, "bad");
  source_.Append(kShard1, "b");
  const std::string failures = dir_ + "/failed.jsonl";
  StartRunner({Config("name=m,table=cruddur-messages,batch-size=10,retries=2,on-failure=file:" +
                      failures + ",native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").batches_failed == 1; }));
  // 1 try + 2 retries, each with the whole batch.
  const auto calls = recorder_.calls();
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) EXPECT_EQ(c, (std::vector<std::string>{"a", "bad", "b"}));

  const auto lines = ReadLines(failures);
  ASSERT_EQ(lines.size(), 1u);
  json::Document doc;
  ASSERT_TRUE(json::Parse(lines[0], &doc).ok()) << lines[0];
  EXPECT_STREQ(doc["mapping"].GetString(), "m");
  EXPECT_EQ(doc["attempts"].GetInt(), 3);
  EXPECT_NE(std::string(doc["error"].GetString()).find("handler refused"), std::string::npos);
  EXPECT_STREQ(doc["shard_id"].GetString(), kShard1);
  ASSERT_EQ(doc["event"]["Records"].Size(), 3u);
  EXPECT_STREQ(doc["event"]["Records"][1]["dynamodb"]["Keys"]["pk"]["S"].GetString(), "bad");
  EXPECT_STREQ(doc["event"]["Records"][1]["eventSourceARN"].GetString(), kArn);

  // The mapping moved on.
  source_.Append(kShard1, "c");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys() == std::vector<std::string>{"c"}; }));
  EXPECT_NE(StateOf("m").last_error.find("handler refused"), std::string::npos);
}

TEST_F(TriggerRunnerTest, BisectIsolatesThePoisonRecord) {
  recorder_.FailWhen([](const std::vector<std::string>& keys) {
    return std::find(keys.begin(), keys.end(), "k6") != keys.end();
  });
  for (int i = 1; i <= 8; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  const std::string failures = dir_ + "/failed.jsonl";
  StartRunner(
      {Config("name=m,table=cruddur-messages,batch-size=8,window-ms=1000,retries=1,"
              "bisect=true,on-failure=file:" +
              failures + ",native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").batches_failed == 1; }));
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 7; }));
  // First half first; the poison record alone went to the destination.
  EXPECT_EQ(recorder_.DeliveredKeys(),
            (std::vector<std::string>{"k1", "k2", "k3", "k4", "k5", "k7", "k8"}));
  const auto lines = ReadLines(failures);
  ASSERT_EQ(lines.size(), 1u);
  json::Document doc;
  ASSERT_TRUE(json::Parse(lines[0], &doc).ok());
  ASSERT_EQ(doc["event"]["Records"].Size(), 1u);
  EXPECT_STREQ(doc["event"]["Records"][0]["dynamodb"]["Keys"]["pk"]["S"].GetString(), "k6");
  EXPECT_EQ(doc["attempts"].GetInt(), 2);
  // [1..8] fails, [1..4] ok, [5..8] fails, [5,6] fails, [5] ok, [6] fails twice, [7,8] ok.
  EXPECT_EQ(recorder_.calls().size(), 8u);
}

TEST_F(TriggerRunnerTest, RestartResumesFromTheCheckpointWithoutRedelivery) {
  for (int i = 1; i <= 10; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  const MappingConfig config = Config("name=m,table=cruddur-messages,batch-size=4,native=recorder");
  StartRunner({config});
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 10; }));
  runner_.reset();  // stops

  for (int i = 11; i <= 15; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  Recorder second;
  natives_.Register("recorder", second.Handler());
  StartRunner({config});
  ASSERT_TRUE(WaitFor([&] { return second.DeliveredKeys().size() == 5; }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(second.DeliveredKeys(), Keys("k", 11, 15));
}

TEST_F(TriggerRunnerTest, UnfinishedBatchIsDeliveredAgainAfterRestart) {
  recorder_.FailWhen([](const std::vector<std::string>&) { return true; });
  for (int i = 1; i <= 3; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  const MappingConfig config = Config("name=m,table=cruddur-messages,native=recorder");
  StartRunner({config});  // retries=-1: keeps retrying until stopped
  ASSERT_TRUE(WaitFor([&] { return recorder_.calls().size() >= 3; }));
  EXPECT_EQ(StateOf("m").state, "retrying");
  runner_.reset();

  Recorder second;
  natives_.Register("recorder", second.Handler());
  StartRunner({config});
  ASSERT_TRUE(WaitFor([&] { return second.DeliveredKeys().size() == 3; }));
  EXPECT_EQ(second.DeliveredKeys(), Keys("k", 1, 3));
}

TEST_F(TriggerRunnerTest, FilteredRecordsAreSkippedAndCheckpointedPast) {
  source_.Append(kShard1, "a", "INSERT");
  source_.Append(kShard1, "b", "MODIFY");
  source_.Append(kShard1, "c", "INSERT");
  const std::string last = source_.Append(kShard1, "d", "REMOVE");
  StartRunner(
      {Config("name=m,table=cruddur-messages,filter='{\"eventName\":[\"INSERT\"]}',"
              "native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").last_sequence_number == last; }));
  EXPECT_EQ(recorder_.DeliveredKeys(), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(StateOf("m").records_filtered, 2u);

  // A batch in which nothing matches is not delivered at all, but still checkpointed.
  const std::string only_removed = source_.Append(kShard1, "e", "REMOVE");
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").last_sequence_number == only_removed; }));
  EXPECT_EQ(recorder_.calls().size(), 1u);
}

TEST_F(TriggerRunnerTest, LatestSkipsWhatIsAlreadyThere) {
  source_.Append(kShard1, "old1");
  source_.AddShard("shardId-00000000000000000000-00000000");
  source_.Append("shardId-00000000000000000000-00000000", "old-closed");
  source_.Close("shardId-00000000000000000000-00000000");
  StartRunner({Config("name=m,table=cruddur-messages,start=LATEST,native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").state == "running"; }));
  std::this_thread::sleep_for(milliseconds(100));  // the LATEST iterator is taken
  source_.Append(kShard1, "new1");
  ASSERT_TRUE(WaitFor([&] { return !recorder_.DeliveredKeys().empty(); }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(recorder_.DeliveredKeys(), (std::vector<std::string>{"new1"}));
  // A shard born later is read from its beginning.
  source_.Close(kShard1);
  source_.AddShard("shardId-00000000000000000003-00000003", kShard1);
  source_.Append("shardId-00000000000000000003-00000003", "child1");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 2; }));
  EXPECT_EQ(recorder_.DeliveredKeys().back(), "child1");
}

TEST_F(TriggerRunnerTest, ExpiredIteratorResumesAfterTheCheckpoint) {
  source_.Append(kShard1, "k1");
  StartRunner({Config("name=m,table=cruddur-messages,native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 1; }));
  source_.ExpireIterators();
  ASSERT_TRUE(WaitFor([&] { return source_.expired_answers() > 0; }));
  source_.Append(kShard1, "k2");
  source_.Append(kShard1, "k3");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 3; }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(recorder_.DeliveredKeys(), Keys("k", 1, 3));
  EXPECT_TRUE(StateOf("m").last_error.empty()) << StateOf("m").last_error;
}

TEST_F(TriggerRunnerTest, TrimmedPositionContinuesFromTheOldestRecordLeft) {
  source_.Append(kShard1, "k1");
  const MappingConfig config = Config("name=m,table=cruddur-messages,native=recorder");
  StartRunner({config});
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 1; }));
  runner_.reset();
  // While the runner is down, k2 is written and then trimmed along with k1.
  source_.Append(kShard1, "k2");
  source_.Append(kShard1, "k3");
  source_.Trim(kShard1, 2);
  Recorder second;
  natives_.Register("recorder", second.Handler());
  StartRunner({config});
  ASSERT_TRUE(WaitFor([&] { return second.DeliveredKeys().size() == 1; }));
  EXPECT_EQ(second.DeliveredKeys(), (std::vector<std::string>{"k3"}));
  std::lock_guard lock(log_mu_);
  bool logged = false;
  for (const std::string& line : log_) logged |= line.find("were trimmed") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(TriggerRunnerTest, BatchingWindowWaitsForMoreRecords) {
  StartRunner(
      {Config("name=m,table=cruddur-messages,batch-size=6,window-ms=5000,native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").state == "running"; }));
  for (int i = 1; i <= 3; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  std::this_thread::sleep_for(milliseconds(50));
  for (int i = 4; i <= 6; ++i) source_.Append(kShard1, "k" + std::to_string(i));
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 6; }));
  // The batch filled up within the window: one call with all six, without waiting it out.
  EXPECT_EQ(recorder_.delivered().size(), 1u);
}

TEST_F(TriggerRunnerTest, WaitsForTheStreamToAppear) {
  StartRunner({Config("name=m,table=later-table,native=recorder")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").state == "waiting"; }));
  EXPECT_NE(StateOf("m").last_error.find("no enabled stream"), std::string::npos);
  source_.SetStream("later-table", kArn);
  source_.Append(kShard1, "k1");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 1; }));
}

TEST_F(TriggerRunnerTest, AddListRemoveAndTheMappingsFile) {
  StartRunner({Config("name=static,table=cruddur-messages,native=recorder")});
  ASSERT_TRUE(
      runner_->AddMapping(Config("name=added,table=cruddur-messages,native=recorder")).ok());
  Status dup = runner_->AddMapping(Config("name=added,table=cruddur-messages,native=recorder"));
  EXPECT_EQ(dup.code(), ErrorCode::kResourceInUse);
  Status unknown = runner_->AddMapping(Config("name=x,table=cruddur-messages,native=nobody"));
  EXPECT_EQ(unknown.code(), ErrorCode::kValidation);
  EXPECT_NE(unknown.message().find("nobody"), std::string::npos);

  source_.Append(kShard1, "k1");
  // Both mappings deliver the record: one handler, called twice.
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 2; }));
  auto states = runner_->ListMappings();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].config.name, "added");
  EXPECT_TRUE(states[0].persistent);
  EXPECT_FALSE(states[1].persistent);

  // Only the added mapping is in the file, and a new runner starts it again.
  auto file = LoadMappingsFile(dir_ + "/state/mappings.json");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->size(), 1u);
  EXPECT_EQ((*file)[0].name, "added");
  runner_.reset();
  StartRunner({});
  states = runner_->ListMappings();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].config.name, "added");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/state/added.checkpoint.json"));

  ASSERT_TRUE(runner_->RemoveMapping("added").ok());
  EXPECT_EQ(runner_->RemoveMapping("added").code(), ErrorCode::kResourceNotFound);
  EXPECT_TRUE(runner_->ListMappings().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/added.checkpoint.json"));
  file = LoadMappingsFile(dir_ + "/state/mappings.json");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->empty());
}

TEST_F(TriggerRunnerTest, InMemoryCheckpointsAndStopIsPrompt) {
  StartRunner({Config("name=a,table=cruddur-messages,native=recorder"),
               Config("name=b,table=no-such-table,native=recorder")},
              /*durable=*/false);
  source_.Append(kShard1, "k1");
  ASSERT_TRUE(WaitFor([&] { return recorder_.DeliveredKeys().size() == 1; }));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state"));
  const auto start = Clock::now();
  runner_->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(runner_->ListMappings().empty());
  EXPECT_FALSE(runner_->AddMapping(Config("name=c,table=cruddur-messages,native=recorder")).ok());
}

TEST_F(TriggerRunnerTest, CommandHandlerEndToEnd) {
  source_.Append(kShard1, "k1");
  source_.Append(kShard1, "k2");
  const std::string out = dir_ + "/events.jsonl";
  StartRunner(
      {Config("name=cmd,table=cruddur-messages,command=/usr/bin/python3 -c 'import sys,json;"
              " e=json.load(sys.stdin); open(\"" +
              out + "\",\"a\").write(json.dumps(e)+\"\\n\")'")});
  ASSERT_TRUE(WaitFor([&] { return StateOf("cmd").batches_ok == 1; }));
  const auto lines = ReadLines(out);
  ASSERT_EQ(lines.size(), 1u);
  json::Document doc;
  ASSERT_TRUE(json::Parse(lines[0], &doc).ok());
  ASSERT_EQ(doc["Records"].Size(), 2u);
  EXPECT_STREQ(doc["Records"][1]["eventSourceARN"].GetString(), kArn);
}

// A DynamoClient that records PutItem calls, for the table: destination.
class RecordingClient : public dynamo::DynamoClient {
 public:
  Result<std::string> Call(dynamo::Api api, std::string_view operation,
                           std::string_view request) override {
    std::lock_guard lock(mu_);
    calls.emplace_back(std::string(operation), std::string(request));
    if (api != dynamo::Api::kDynamoDB || operation != "PutItem") return InternalError("unexpected");
    if (fail_first_ && calls.size() == 1) return IoError("engine unreachable");
    return std::string("{}");
  }
  std::string region() const override { return "us-east-1"; }
  std::vector<std::pair<std::string, std::string>> Calls() {
    std::lock_guard lock(mu_);
    return calls;
  }
  bool fail_first_ = false;

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> calls;
};

TEST_F(TriggerRunnerTest, FailedBatchGoesToATableAndTheDestinationIsRetried) {
  RecordingClient client;
  client.fail_first_ = true;
  recorder_.FailWhen([](const std::vector<std::string>&) { return true; });
  source_.Append(kShard1, "k1");
  auto r = TriggerRunner::Create(&source_, &client, Options());
  ASSERT_TRUE(r.ok());
  runner_ = std::move(r).value();
  ASSERT_TRUE(runner_
                  ->Start({Config("name=m,table=cruddur-messages,retries=0,"
                                  "on-failure=table:failed-batches,native=recorder")})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf("m").batches_failed == 1; }));
  const auto calls = client.Calls();
  ASSERT_EQ(calls.size(), 2u);  // the first PutItem failed and was retried
  json::Document doc;
  ASSERT_TRUE(json::Parse(calls[1].second, &doc).ok());
  EXPECT_STREQ(doc["TableName"].GetString(), "failed-batches");
  const json::Value& item = doc["Item"];
  EXPECT_EQ(std::string(item["id"]["S"].GetString()).size(), 36u);
  EXPECT_STREQ(item["mapping"]["S"].GetString(), "m");
  EXPECT_NE(std::string(item["error"]["S"].GetString()).find("handler refused"), std::string::npos);
  json::Document event;
  ASSERT_TRUE(json::Parse(item["event"]["S"].GetString(), &event).ok());
  EXPECT_EQ(event["Records"].Size(), 1u);
}

TEST_F(TriggerRunnerTest, StartRejectsAnInvalidMappingAndStartsNothing) {
  auto r = TriggerRunner::Create(&source_, nullptr, Options());
  ASSERT_TRUE(r.ok());
  runner_ = std::move(r).value();
  MappingConfig bad = Config("name=ok,table=cruddur-messages,native=recorder");
  bad.batch_size = 0;
  Status st = runner_->Start({Config("name=ok2,table=cruddur-messages,native=recorder"), bad});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("batch-size"), std::string::npos) << st.message();
  EXPECT_TRUE(runner_->ListMappings().empty());
}

}  // namespace
}  // namespace cruddur::triggers
