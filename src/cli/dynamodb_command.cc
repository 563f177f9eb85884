#include "cli/dynamodb_command.h"

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "dynamo/server/dynamo_service.h"
#include "dynamo/storage/engine.h"
#include "net/http_server.h"

namespace cruddur::cli {
namespace {

// Trims stream records past retention once a minute, until destroyed.
class StreamTrimmer {
 public:
  StreamTrimmer(dynamo::storage::Engine* engine, std::chrono::hours retention)
      : thread_([this, engine, retention] {
          std::unique_lock lock(mu_);
          while (!stop_) {
            lock.unlock();
            Status st = engine->TrimStreams(retention);
            if (!st.ok()) {
              std::fprintf(stderr, "cruddur dynamodb: stream trimming failed: %s\n",
                           st.ToString().c_str());
            }
            lock.lock();
            cv_.wait_for(lock, std::chrono::minutes(1), [this] { return stop_; });
          }
        }) {}
  ~StreamTrimmer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int RunDynamoDb(const DynamoDbOptions& options) {
  // Block the stop signals in every thread (the loops inherit this mask); the main thread
  // waits for them with sigwait, so no handler runs on an arbitrary thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  dynamo::storage::EngineOptions engine_options;
  engine_options.path = options.in_memory ? "/cruddur-in-memory" : options.data_dir;
  engine_options.in_memory = options.in_memory;
  engine_options.sync = options.sync;
  auto engine = dynamo::storage::Engine::Open(engine_options);
  if (!engine.ok()) {
    std::fprintf(stderr, "cruddur dynamodb: cannot open the store at %s: %s\n",
                 engine_options.path.c_str(), engine.status().ToString().c_str());
    return 1;
  }

  dynamo::DynamoService service(engine->get(), {options.region});
  StreamTrimmer trimmer(engine->get(), std::chrono::hours(options.stream_retention_hours));
  net::HttpServerOptions http;
  http.host = options.host;
  http.port = options.port;
  http.threads = options.threads;
  http.error_responder = &dynamo::DynamoService::RefusedResponse;
  auto server = net::HttpServer::Start(
      http, [&service](const net::HttpRequest& req, net::HttpResponse* resp) {
        service.Handle(req, resp);
      });
  if (!server.ok()) {
    std::fprintf(stderr, "cruddur dynamodb: cannot listen on %s:%u: %s\n", options.host.c_str(),
                 options.port, server.status().ToString().c_str());
    return 1;
  }
  std::printf("cruddur dynamodb listening on http://%s:%u (%s)\n", options.host.c_str(),
              (*server)->port(),
              options.in_memory ? "in memory" : ("data in " + options.data_dir).c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::printf("cruddur dynamodb: %s received, shutting down\n",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*server)->RequestStop();
  (*server)->Wait();
  return 0;
}

}  // namespace cruddur::cli
