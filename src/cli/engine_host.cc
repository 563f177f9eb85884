#include "cli/engine_host.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "dynamo/server/dynamo_service.h"
#include "dynamo/server/local_client.h"
#include "dynamo/ttl/ttl_sweeper.h"
#include "net/http_server.h"
#include "triggers/admin.h"
#include "triggers/local_stream_source.h"

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

struct EngineHost::Impl {
  // Declaration order is destruction order reversed: the server goes first (Stop), then the
  // runner, the source, the client, the service and the store.
  std::unique_ptr<dynamo::storage::Engine> engine;
  std::unique_ptr<dynamo::DynamoService> service;
  std::unique_ptr<dynamo::LocalDynamoClient> client;
  std::unique_ptr<StreamTrimmer> trimmer;
  std::unique_ptr<dynamo::ttl::TtlSweeper> ttl_sweeper;
  std::unique_ptr<triggers::LocalStreamSource> source;
  std::unique_ptr<triggers::TriggerRunner> runner;
  // Set once the runner exists; the admin paths answer 503 before that.
  std::atomic<triggers::TriggerRunner*> runner_for_admin{nullptr};
  std::unique_ptr<net::HttpServer> server;
  bool stopped = false;
};

EngineHost::EngineHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EngineHost::~EngineHost() { Stop(); }

void EngineHost::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->server) {
    impl_->server->RequestStop();
    impl_->server->Wait();
  }
  if (impl_->runner) impl_->runner->Stop();
}

uint16_t EngineHost::port() const { return impl_->server->port(); }
dynamo::DynamoClient* EngineHost::client() { return impl_->client.get(); }
dynamo::storage::Engine* EngineHost::engine() { return impl_->engine.get(); }
triggers::TriggerRunner* EngineHost::runner() { return impl_->runner.get(); }

Result<std::unique_ptr<EngineHost>> EngineHost::Start(const EngineHostOptions& options,
                                                      triggers::NativeHandlerRegistry* natives) {
  auto impl = std::make_unique<Impl>();
  dynamo::storage::EngineOptions engine_options;
  engine_options.path = options.in_memory ? "/cruddur-in-memory" : options.data_dir;
  engine_options.in_memory = options.in_memory;
  engine_options.sync = options.sync;
  auto engine = dynamo::storage::Engine::Open(engine_options);
  if (!engine.ok()) {
    return Status(engine.status().code(), "cannot open the store at " + engine_options.path + ": " +
                                              engine.status().message());
  }
  impl->engine = std::move(engine).value();
  dynamo::DynamoServiceOptions service_options;
  service_options.region = options.region;
  service_options.auth = options.auth;
  service_options.inject_throttling = options.inject_throttling;
  impl->service = std::make_unique<dynamo::DynamoService>(impl->engine.get(), service_options);
  impl->client = std::make_unique<dynamo::LocalDynamoClient>(impl->service.get());
  impl->trimmer = std::make_unique<StreamTrimmer>(
      impl->engine.get(), std::chrono::hours(options.stream_retention_hours));
  dynamo::ttl::TtlSweeperOptions ttl_options;
  ttl_options.period = std::chrono::seconds(options.ttl_period_seconds);
  impl->ttl_sweeper = std::make_unique<dynamo::ttl::TtlSweeper>(impl->engine.get(), ttl_options);

  net::HttpServerOptions http;
  http.host = options.host;
  http.port = options.port;
  http.threads = options.threads;
  http.error_responder = &dynamo::DynamoService::RefusedResponse;
  Impl* raw = impl.get();
  auto server =
      net::HttpServer::Start(http, [raw](const net::HttpRequest& req, net::HttpResponse* resp) {
        if (triggers::IsTriggersAdminPath(req.target)) {
          triggers::TriggerRunner* runner = raw->runner_for_admin.load();
          if (runner == nullptr) {
            resp->status = 503;
            resp->body = "{\"message\":\"triggers are starting\"}";
            return;
          }
          triggers::HandleTriggersAdmin(runner, req, resp);
          return;
        }
        raw->service->Handle(req, resp);
      });
  if (!server.ok()) {
    return Status(server.status().code(), "cannot listen on " + options.host + ":" +
                                              std::to_string(options.port) + ": " +
                                              server.status().message());
  }
  impl->server = std::move(server).value();

  impl->source = std::make_unique<triggers::LocalStreamSource>(impl->client.get(),
                                                               impl->engine.get(), options.region);
  triggers::RunnerOptions runner_options;
  runner_options.region = options.region;
  // Handlers reach the engine over loopback whatever address it listens on.
  runner_options.engine_url = "http://127.0.0.1:" + std::to_string(impl->server->port());
  runner_options.state_dir = options.in_memory ? "" : options.data_dir + "/triggers";
  runner_options.natives = natives;
  auto runner =
      triggers::TriggerRunner::Create(impl->source.get(), impl->client.get(), runner_options);
  auto host = std::unique_ptr<EngineHost>(new EngineHost(std::move(impl)));
  if (!runner.ok()) return runner.TakeStatus();
  if (options.before_triggers) {
    CRUDDUR_RETURN_IF_ERROR(options.before_triggers(host->impl_->client.get()));
  }
  host->impl_->runner = std::move(runner).value();
  CRUDDUR_RETURN_IF_ERROR(host->impl_->runner->Start(options.triggers));
  host->impl_->runner_for_admin = host->impl_->runner.get();
  return host;
}

Result<std::vector<triggers::MappingConfig>> ReadTriggerOptions(
    const std::vector<std::string>& specs, const std::string& file) {
  std::vector<triggers::MappingConfig> out;
  if (!file.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(out, triggers::LoadMappingsFile(file));
  }
  for (const std::string& spec : specs) {
    Result<triggers::MappingConfig> config = triggers::ParseMappingSpec(spec);
    if (!config.ok()) {
      return Status(config.status().code(),
                    "--trigger '" + spec + "': " + config.status().message());
    }
    out.push_back(std::move(config).value());
  }
  return out;
}

}  // namespace cruddur::cli
