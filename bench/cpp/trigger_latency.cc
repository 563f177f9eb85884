// Write-to-handler latency of a local trigger (issue #3's target: p99 under 50 ms with a native
// handler and batching window 0), measured in one process with the pieces `cruddur dynamodb`
// wires together (src/cli/engine_host.cc): storage::Engine, DynamoService, LocalDynamoClient,
// LocalStreamSource (woken by the engine's commits) and TriggerRunner with one native handler.
//
// Writer threads send PutItem at a fixed total rate (open loop: each write has a scheduled time,
// so a slow write delays the ones behind it rather than lowering the rate unnoticed). Each item's
// key carries the steady-clock time just before its PutItem call; the handler takes the clock
// once when its batch starts and records, for every record of the batch, the difference. Keys
// are used (not images) so that every StreamViewType works. Phases run one after another, and
// each waits until every record it wrote has reached the handler.
//
//   trigger_latency [--rates 500,2000,5000] [--seconds 3] [--writers 2] [--data-dir DIR]
//                   [--view NEW_AND_OLD_IMAGES] [--batch-size 100]
//
// Hand-run only (never in CI). Prints one line per phase: the rate asked for and achieved,
// records delivered and per second, the number of handler calls, and p50/p90/p99/max of the
// delay in milliseconds. Exits non-zero when a write fails or a record never arrives.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/json.h"
#include "common/status.h"
#include "dynamo/server/dynamo_service.h"
#include "dynamo/server/local_client.h"
#include "dynamo/storage/engine.h"
#include "triggers/handler.h"
#include "triggers/local_stream_source.h"
#include "triggers/trigger_runner.h"

namespace cruddur::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kTable[] = "bench-trigger-latency";

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// What the handler saw during one phase.
class Recorder {
 public:
  void Reset() {
    std::lock_guard lock(mu_);
    delays_ns_.clear();
    batches_ = 0;
    first_ns_ = 0;
    last_ns_ = 0;
    bad_ = 0;
  }

  // One handler call: every record's delay from its write to `start_ns`.
  void AddBatch(int64_t start_ns, const std::vector<int64_t>& sent_ns, int bad) {
    std::lock_guard lock(mu_);
    for (int64_t sent : sent_ns) delays_ns_.push_back(start_ns - sent);
    ++batches_;
    bad_ += bad;
    if (first_ns_ == 0) first_ns_ = start_ns;
    last_ns_ = start_ns;
    cv_.notify_all();
  }

  // Waits until `count` records have arrived or `timeout` passes; whether they all did.
  bool WaitFor(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return delays_ns_.size() >= count; });
  }

  struct Summary {
    size_t records = 0;
    int64_t batches = 0;
    int bad = 0;
    double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
    double span_s = 0;  // from the first handler call to the last
  };

  Summary Summarize() {
    std::lock_guard lock(mu_);
    Summary s;
    s.records = delays_ns_.size();
    s.batches = batches_;
    s.bad = bad_;
    s.span_s = static_cast<double>(last_ns_ - first_ns_) / 1e9;
    if (delays_ns_.empty()) return s;
    std::vector<int64_t> sorted = delays_ns_;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) {
      size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
      return static_cast<double>(sorted[i]) / 1e6;
    };
    s.p50_ms = at(0.50);
    s.p90_ms = at(0.90);
    s.p99_ms = at(0.99);
    s.max_ms = static_cast<double>(sorted.back()) / 1e6;
    return s;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> delays_ns_;
  int64_t batches_ = 0;
  int64_t first_ns_ = 0;
  int64_t last_ns_ = 0;
  int bad_ = 0;
};

// The send time encoded in a record's key: pk is "<send ns>#<writer>#<n>".
bool SentNanos(const std::string& record_json, int64_t* sent) {
  json::Document doc;
  if (!json::Parse(record_json, &doc).ok() || !doc.IsObject()) return false;
  auto ddb = doc.FindMember("dynamodb");
  if (ddb == doc.MemberEnd() || !ddb->value.IsObject()) return false;
  auto keys = ddb->value.FindMember("Keys");
  if (keys == ddb->value.MemberEnd() || !keys->value.IsObject()) return false;
  auto pk = keys->value.FindMember("pk");
  if (pk == keys->value.MemberEnd() || !pk->value.IsObject()) return false;
  auto s = pk->value.FindMember("S");
  if (s == pk->value.MemberEnd() || !s->value.IsString()) return false;
  return std::sscanf(s->value.GetString(), "%" SCNd64, sent) == 1;
}

Status CreateTable(dynamo::DynamoClient* client, const std::string& view) {
  std::string body = std::string("{\"TableName\":\"") + kTable +
                     "\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
                     "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\","
                     "\"KeyType\":\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\","
                     "\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"" +
                     view + "\"}}";
  return client->Call(dynamo::Api::kDynamoDB, "CreateTable", body).TakeStatus();
}

// A message-like item of about 300 bytes.
std::string PutBody(int64_t sent_ns, int writer, int64_t n) {
  std::string pk = std::to_string(sent_ns) + "#" + std::to_string(writer) + "#" + std::to_string(n);
  return std::string("{\"TableName\":\"") + kTable + "\",\"Item\":{\"pk\":{\"S\":\"" + pk +
         "\"},\"message_group_uuid\":{\"S\":\"5ae290ed-55d1-47a0-bc6d-fe2bc2700399\"},"
         "\"user_uuid\":{\"S\":\"90d4a3b4-5e1a-4a86-b9a1-2a4c3f8d6e11\"},"
         "\"user_display_name\":{\"S\":\"Andrew Brown\"},\"user_handle\":{\"S\":\"andrewbrown\"},"
         "\"message\":{\"S\":\"Benchmark message: a short text of a typical chat length.\"}}}";
}

struct PhaseResult {
  int64_t written = 0;
  int64_t failed = 0;
  int64_t late = 0;  // writes sent more than 10 ms after their scheduled time
  double write_s = 0;
};

// `writers` threads together send `rate` PutItems a second for `seconds`.
PhaseResult RunWriters(dynamo::DynamoClient* client, int rate, int seconds, int writers) {
  const int64_t total = static_cast<int64_t>(rate) * seconds;
  const auto interval = std::chrono::nanoseconds(1000000000LL * writers / rate);
  std::atomic<int64_t> written{0}, failed{0}, late{0};
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(10);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      // Writer w sends writes w, w + writers, ...; their schedules interleave evenly.
      Clock::time_point next = start + std::chrono::nanoseconds(interval.count() * w / writers);
      for (int64_t n = w; n < total; n += writers) {
        std::this_thread::sleep_until(next);
        int64_t sent = NowNanos();
        if (Clock::now() - next > std::chrono::milliseconds(10)) ++late;
        Result<std::string> r =
            client->Call(dynamo::Api::kDynamoDB, "PutItem", PutBody(sent, w, n));
        if (r.ok()) {
          ++written;
        } else {
          if (failed++ == 0) std::fprintf(stderr, "PutItem: %s\n", r.status().ToString().c_str());
        }
        next += interval;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  PhaseResult out;
  out.written = written;
  out.failed = failed;
  out.late = late;
  out.write_s = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

std::vector<int> ParseRates(const std::string& text) {
  std::vector<int> rates;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    int rate = std::atoi(part.c_str());
    if (rate > 0) rates.push_back(rate);
  }
  return rates;
}

int Run(int argc, char** argv) {
  CLI::App app{"Write-to-handler latency of a native trigger"};
  std::string rates_text = "500,2000,5000";
  int seconds = 3;
  int writers = 2;
  std::string data_dir;
  std::string view = "NEW_AND_OLD_IMAGES";
  int batch_size = 100;
  app.add_option("--rates", rates_text, "PutItems per second, one phase each, comma-separated");
  app.add_option("--seconds", seconds, "seconds of writing per phase")->check(CLI::Range(1, 600));
  app.add_option("--writers", writers, "writer threads")->check(CLI::Range(1, 64));
  app.add_option("--data-dir", data_dir, "RocksDB folder (must not exist); default: in memory");
  app.add_option("--view", view, "StreamViewType of the table's stream");
  app.add_option("--batch-size", batch_size, "the mapping's batch size")
      ->check(CLI::Range(1, 10000));
  CLI11_PARSE(app, argc, argv);
  std::vector<int> rates = ParseRates(rates_text);
  if (rates.empty()) {
    std::fprintf(stderr, "--rates: no positive rate in '%s'\n", rates_text.c_str());
    return 2;
  }

  dynamo::storage::EngineOptions engine_options;
  engine_options.in_memory = data_dir.empty();
  engine_options.path = data_dir.empty() ? "/cruddur-bench-in-memory" : data_dir;
  auto engine = dynamo::storage::Engine::Open(engine_options);
  if (!engine.ok()) {
    std::fprintf(stderr, "cannot open the store: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  dynamo::DynamoService service(engine->get(), dynamo::DynamoServiceOptions{});
  dynamo::LocalDynamoClient client(&service);
  if (Status st = CreateTable(&client, view); !st.ok()) {
    std::fprintf(stderr, "CreateTable: %s\n", st.ToString().c_str());
    return 1;
  }

  Recorder recorder;
  triggers::NativeHandlerRegistry natives;
  natives.Register("latency", [&recorder](const triggers::Batch& batch) {
    int64_t start = NowNanos();
    std::vector<int64_t> sent;
    sent.reserve(batch.records.size());
    int bad = 0;
    for (const triggers::StreamRecord& record : batch.records) {
      int64_t ns = 0;
      if (SentNanos(record.json, &ns)) {
        sent.push_back(ns);
      } else {
        ++bad;
      }
    }
    recorder.AddBatch(start, sent, bad);
    return Status();
  });

  triggers::LocalStreamSource source(&client, engine->get(), service.region());
  triggers::RunnerOptions runner_options;
  runner_options.region = service.region();
  // As `cruddur dynamodb` does: checkpoints beside the data on disk, in memory otherwise.
  runner_options.state_dir = data_dir.empty() ? "" : data_dir + "/triggers";
  runner_options.natives = &natives;
  auto runner = triggers::TriggerRunner::Create(&source, &client, runner_options);
  if (!runner.ok()) {
    std::fprintf(stderr, "trigger runner: %s\n", runner.status().ToString().c_str());
    return 1;
  }
  triggers::MappingConfig mapping;
  mapping.name = "latency";
  mapping.table = kTable;
  mapping.start = triggers::StartingPosition::kTrimHorizon;
  mapping.batch_size = batch_size;
  mapping.window_ms = 0;
  mapping.handler_kind = triggers::HandlerKind::kNative;
  mapping.handler = "latency";
  if (Status st = (*runner)->Start({mapping}); !st.ok()) {
    std::fprintf(stderr, "mapping: %s\n", st.ToString().c_str());
    return 1;
  }
  // Let the worker find the stream and its shard before the first phase.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  std::printf("store=%s view=%s writers=%d batch-size=%d window-ms=0 seconds/phase=%d\n",
              data_dir.empty() ? "in-memory" : "disk", view.c_str(), writers, batch_size, seconds);
  std::printf("%10s %10s %9s %9s %9s %8s %8s %8s %8s %8s\n", "rate/s", "written/s", "records",
              "handled/s", "batches", "p50 ms", "p90 ms", "p99 ms", "max ms", "late");
  int rc = 0;
  for (int rate : rates) {
    recorder.Reset();
    PhaseResult phase = RunWriters(&client, rate, seconds, writers);
    bool all = recorder.WaitFor(static_cast<size_t>(phase.written), std::chrono::seconds(30));
    Recorder::Summary s = recorder.Summarize();
    double handled_per_s = s.span_s > 0 ? static_cast<double>(s.records) / s.span_s : 0;
    std::printf("%10d %10.0f %9zu %9.0f %9" PRId64 " %8.2f %8.2f %8.2f %8.2f %8" PRId64 "\n", rate,
                static_cast<double>(phase.written) / phase.write_s, s.records, handled_per_s,
                s.batches, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms, phase.late);
    std::fflush(stdout);
    if (phase.failed > 0 || !all || s.bad > 0) {
      std::fprintf(stderr,
                   "rate %d: %" PRId64 " writes failed, %zu of %" PRId64
                   " records arrived, %d unreadable\n",
                   rate, phase.failed, s.records, phase.written, s.bad);
      rc = 1;
    }
  }
  (*runner)->Stop();
  return rc;
}

}  // namespace
}  // namespace cruddur::bench

int main(int argc, char** argv) { return cruddur::bench::Run(argc, argv); }
