// PutItem throughput in process, without a stream and with each StreamViewType: the engine's
// share of a stream's cost, without HTTP, wrk or JSON over a socket (bench/stream_cost.sh
// measures the whole server). Each variant gets a fresh engine and table; `--threads` threads
// call DynamoService::Execute("PutItem") in a closed loop for `--seconds`, every item new (the
// same message-like item as bench/wrk/putitem.lua). Variants alternate for `--rounds` rounds;
// the median per variant is printed with its cost against no stream: 1 - with/without.
// Besides PutItems per second (wall clock), each run reports the process's CPU time per
// PutItem, which moves much less than throughput when other work shares the cores.
//
//   stream_put_cost [--threads 2] [--seconds 2] [--rounds 3] [--data-dir DIR]
//                   [--views none,KEYS_ONLY,NEW_IMAGE,NEW_AND_OLD_IMAGES]
//
// One variant alone (e.g. --views KEYS_ONLY --rounds 1 --seconds 5) is handy under a profiler.
//
// Hand-run only (never in CI). With --data-dir each variant uses a fresh subfolder of DIR
// (which must not exist), removed afterwards.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/status.h"
#include "dynamo/server/dynamo_service.h"
#include "dynamo/storage/engine.h"

namespace cruddur::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Rates {
  double per_second = 0;     // PutItems per second of wall time
  double cpu_us_per_op = 0;  // process CPU microseconds per PutItem
};

std::string CreateTableBody(const std::string& view) {
  std::string body =
      "{\"TableName\":\"bench\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
      "\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}],"
      "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"sk\","
      "\"KeyType\":\"RANGE\"}],\"BillingMode\":\"PAY_PER_REQUEST\"";
  if (view != "none") {
    body += ",\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"" + view + "\"}";
  }
  return body + "}";
}

std::string PutBody(int thread, int64_t n) {
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "{\"TableName\":\"bench\",\"Item\":{\"pk\":{\"S\":\"MSG#put-%d-%d\"},"
                "\"sk\":{\"S\":\"2025-01-01T00:00:00.%012lld+00:00\"},"
                "\"message_uuid\":{\"S\":\"%08x-0000-4000-8000-%012llx\"},"
                "\"user_uuid\":{\"S\":\"5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a\"},"
                "\"user_display_name\":{\"S\":\"Andrew Brown\"},"
                "\"user_handle\":{\"S\":\"andrewbrown\"},"
                "\"message\":{\"S\":\"Bench message %lld: the quick brown fox jumps over the "
                "lazy dog, twice over.\"}}}",
                thread, static_cast<int>(n % 64), static_cast<long long>(n),
                static_cast<unsigned>(thread), static_cast<unsigned long long>(n),
                static_cast<long long>(n));
  return buf;
}

// One variant on a fresh engine; per_second < 0 on failure.
Rates Measure(const std::string& view, int threads, int seconds, const std::string& dir) {
  dynamo::storage::EngineOptions options;
  options.in_memory = dir.empty();
  options.path = dir.empty() ? "/cruddur-bench-in-memory" : dir;
  auto engine = dynamo::storage::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return {-1, 0};
  }
  dynamo::DynamoService service(engine->get(), dynamo::DynamoServiceOptions{});
  auto created = service.Execute(dynamo::Api::kDynamoDB, "CreateTable", CreateTableBody(view));
  if (!created.ok()) {
    std::fprintf(stderr, "CreateTable: %s\n", created.status().ToString().c_str());
    return {-1, 0};
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0}, failed{0};
  std::vector<std::thread> workers;
  Clock::time_point start = Clock::now();
  double cpu_start = ProcessCpuSeconds();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      int64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (service.Execute(dynamo::Api::kDynamoDB, "PutItem", PutBody(t, n++)).ok()) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (std::thread& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu = ProcessCpuSeconds() - cpu_start;
  if (failed > 0 || done == 0) {
    std::fprintf(stderr, "%s: %lld PutItems failed\n", view.c_str(),
                 static_cast<long long>(failed.load()));
    return {-1, 0};
  }
  const auto n = static_cast<double>(done);
  return {n / elapsed, cpu * 1e6 / n};
}

int Run(int argc, char** argv) {
  CLI::App app{"In-process PutItem throughput with and without a stream"};
  int threads = 2;
  int seconds = 2;
  int rounds = 3;
  std::string data_dir;
  app.add_option("--threads", threads, "PutItem threads")->check(CLI::Range(1, 64));
  app.add_option("--seconds", seconds, "seconds per variant and round")->check(CLI::Range(1, 60));
  app.add_option("--rounds", rounds, "rounds of all variants")->check(CLI::Range(1, 50));
  app.add_option("--data-dir", data_dir, "RocksDB parent folder (must not exist); default: memory");
  std::vector<std::string> views = {"none", "KEYS_ONLY", "NEW_IMAGE", "NEW_AND_OLD_IMAGES"};
  app.add_option("--views", views, "variants: none and StreamViewTypes, the first is the base")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  std::vector<std::vector<double>> runs(views.size());
  std::vector<std::vector<double>> cpus(views.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t v = 0; v < views.size(); ++v) {
      std::string dir;
      if (!data_dir.empty()) dir = data_dir + "/" + views[v] + "-" + std::to_string(round);
      Rates rate = Measure(views[v], threads, seconds, dir);
      if (!dir.empty()) std::filesystem::remove_all(dir);
      if (rate.per_second < 0) return 1;
      runs[v].push_back(rate.per_second);
      cpus[v].push_back(rate.cpu_us_per_op);
      std::printf("round %d %-18s %8.0f PutItem/s %7.1f CPU us/PutItem\n", round + 1,
                  views[v].c_str(), rate.per_second, rate.cpu_us_per_op);
      std::fflush(stdout);
    }
  }
  if (!data_dir.empty()) std::filesystem::remove_all(data_dir);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::printf("\nstore=%s threads=%d seconds=%d rounds=%d\n",
              data_dir.empty() ? "in-memory" : "disk", threads, seconds, rounds);
  const double base = median(runs[0]);
  const double base_cpu = median(cpus[0]);
  for (size_t v = 0; v < views.size(); ++v) {
    double m = median(runs[v]);
    double c = median(cpus[v]);
    std::printf("%-18s median %8.0f PutItem/s (cost %5.1f%%)  %7.1f CPU us/PutItem (+%.1f%%)\n",
                views[v].c_str(), m, 100 * (1 - m / base), c, 100 * (c / base_cpu - 1));
  }
  return 0;
}

}  // namespace
}  // namespace cruddur::bench

int main(int argc, char** argv) { return cruddur::bench::Run(argc, argv); }
