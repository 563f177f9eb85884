#include "cli/serve_command.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/engine_host.h"
#include "cli/web_assets.h"
#include "common/json.h"
#include "dynamo/client/aws_config.h"
#include "dynamo/client/http_client.h"
#include "identity/identity.h"
#include "identity/local_issuer.h"
#include "messaging/demo.h"
#include "messaging/http_api.h"
#include "messaging/live.h"
#include "messaging/stream_handler.h"
#include "net/http_server.h"
#include "triggers/stream_source.h"
#include "triggers/trigger_runner.h"

namespace cruddur::cli {
namespace {

constexpr char kTable[] = "cruddur-messages";
constexpr char kStreamMapping[] = "message-stream";

int Fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "cruddur serve: %s: %s\n", what.c_str(), st.ToString().c_str());
  return 1;
}

void JsonReply(int status, const std::string& body, net::HttpResponse* response) {
  response->status = status;
  response->headers.emplace_back("Content-Type", "application/json");
  response->body = body;
}

// POST /api/dev/sign_in: a token from the local issuer for a user of the directory.
void DevSignIn(identity::UsersDirectory* users, const identity::LocalIssuer& issuer,
               int64_t now_seconds, const net::HttpRequest& request, net::HttpResponse* response) {
  json::Document doc;
  if (!json::Parse(request.body, &doc).ok() || !doc.IsObject() || !doc.HasMember("handle") ||
      !doc["handle"].IsString()) {
    return JsonReply(400, R"({"error":"expected {\"handle\": \"<handle>\"}"})", response);
  }
  std::string handle(doc["handle"].GetString(), doc["handle"].GetStringLength());
  auto token = identity::MintLocalAccessToken(*users, issuer, handle, now_seconds);
  if (!token.ok()) {
    bool unknown = token.status().code() == ErrorCode::kResourceNotFound;
    return JsonReply(unknown ? 404 : 500,
                     unknown ? R"({"error":"no user with that handle"})"
                             : R"({"error":"the token could not be made"})",
                     response);
  }
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("access_token");
  w.String(token->c_str());
  w.Key("expires_in");
  w.Int(3600);
  w.Key("handle");
  w.String(handle.c_str());
  w.EndObject();
  JsonReply(200, std::string(buf.GetString(), buf.GetSize()), response);
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The message-stream mapping: every record of the table to the native handler, in batches.
triggers::MappingConfig StreamMapping() {
  triggers::MappingConfig config;
  config.name = kStreamMapping;
  config.table = kTable;
  config.batch_size = 100;
  config.handler_kind = triggers::HandlerKind::kNative;
  config.handler = kStreamMapping;
  return config;
}

}  // namespace

int RunServe(const ServeOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // ---- Identity ----
  auto identity_config = identity::IdentityConfig::FromEnvironment();
  if (!identity_config.ok()) return Fail("configuration", identity_config.status());
  identity_config->data_dir = options.data_dir;
  auto users = identity::OpenUsersDirectory(*identity_config);
  if (!users.ok()) return Fail("users directory", users.status());
  if (Status st = (*users)->Migrate(); !st.ok()) return Fail("users directory", st);
  auto verifier = identity::MakeAccessTokenVerifier(*identity_config);
  if (!verifier.ok()) return Fail("token verification", verifier.status());

  // ---- DynamoDB: the embedded engine, or a remote endpoint ----
  triggers::NativeHandlerRegistry natives;
  // The handler exists once the client does; until then a batch fails and is retried.
  std::atomic<messaging::MessageStreamHandler*> stream_handler{nullptr};
  natives.Register(kStreamMapping, [&stream_handler](const triggers::Batch& batch) -> Status {
    messaging::MessageStreamHandler* handler = stream_handler.load();
    if (handler == nullptr) return Status(ErrorCode::kInternal, "messaging is starting");
    std::vector<std::string_view> records;
    records.reserve(batch.records.size());
    for (const auto& record : batch.records) records.push_back(record.json);
    return handler->HandleRecords(records);
  });

  dynamo::Environment env = dynamo::ProcessEnvironment();
  std::string endpoint = options.endpoint_url;
  if (endpoint.empty()) {
    endpoint = env("AWS_ENDPOINT_URL_DYNAMODB").value_or(env("AWS_ENDPOINT_URL").value_or(""));
  }
  std::unique_ptr<EngineHost> host;
  std::unique_ptr<dynamo::DynamoClient> remote;
  std::unique_ptr<triggers::ClientStreamSource> remote_source;
  std::unique_ptr<triggers::TriggerRunner> remote_runner;
  dynamo::DynamoClient* client = nullptr;
  std::string where;
  if (endpoint.empty()) {
    EngineHostOptions host_options;
    host_options.host = options.host;
    host_options.port = options.dynamodb_port;
    host_options.data_dir = options.data_dir + "/dynamodb";
    host_options.in_memory = options.in_memory;
    host_options.region = options.region;
    host_options.threads = options.threads;
    host_options.ttl_period_seconds = options.ttl_period_seconds;
    host_options.triggers.push_back(StreamMapping());
    // The embedded engine starts empty: the table is part of the product, made before the
    // stream handler starts reading it.
    host_options.before_triggers = [](dynamo::DynamoClient* local) {
      Status created =
          messaging::MessageStore(local, {kTable, messaging::SystemClock()}).CreateTable();
      return created.code() == ErrorCode::kResourceInUse ? Status::Ok() : created;
    };
    auto started = EngineHost::Start(host_options, &natives);
    if (!started.ok()) return Fail("engine", started.status());
    host = std::move(started).value();
    client = host->client();
    where = "engine on http://" + options.host + ":" + std::to_string(host->port()) +
            (options.in_memory ? " (in memory)" : " (data in " + host_options.data_dir + ")");
  } else {
    auto overrides = [&env, endpoint](std::string_view name) -> std::optional<std::string> {
      if (name == "AWS_ENDPOINT_URL_DYNAMODB") return endpoint;
      return env(name);
    };
    auto config = dynamo::LoadDynamoClientConfig(overrides);
    if (!config.ok()) return Fail("DynamoDB client configuration", config.status());
    auto created = dynamo::HttpDynamoClient::Create(dynamo::OptionsFromConfig(*config));
    if (!created.ok()) return Fail("DynamoDB client", created.status());
    remote = std::move(created).value();
    client = remote.get();
    remote_source = std::make_unique<triggers::ClientStreamSource>(client);
    triggers::RunnerOptions runner_options;
    runner_options.region = config->region;
    runner_options.state_dir = options.data_dir + "/triggers";
    runner_options.natives = &natives;
    auto runner = triggers::TriggerRunner::Create(remote_source.get(), client, runner_options);
    if (!runner.ok()) return Fail("stream poller", runner.status());
    remote_runner = std::move(runner).value();
    if (Status st = remote_runner->Start({StreamMapping()}); !st.ok()) {
      return Fail("stream poller", st);
    }
    where = "DynamoDB at " + config->endpoint;
  }

  // ---- Messaging ----
  messaging::MessageStore store(client, {kTable, messaging::SystemClock()});
  if (!endpoint.empty() && options.demo) {
    // A remote engine gets the table only when asked (--demo), never silently.
    Status created = store.CreateTable();
    if (!created.ok() && created.code() != ErrorCode::kResourceInUse) {
      return Fail("creating " + std::string(kTable), created);
    }
  }
  messaging::MessagingService service(&store, users->get(), {options.cache_capacity});
  // Live updates for open pages: the stream handler publishes each new message and the group
  // rows it moved (declared before the handler, which calls it).
  messaging::EventHub hub;
  messaging::MessageStreamHandler handler(
      client, kTable,
      [&service](const std::string& group, const std::vector<std::string>& owners) {
        service.OnGroupChanged(group, owners);
      },
      hub.AsGroupUpdatedCallback());
  stream_handler = &handler;
  identity::RefreshingJwtVerifier* jwt = verifier->get();
  messaging::MessagingHttpApiOptions api_options;
  api_options.frontend_url = env("FRONTEND_URL").value_or("");
  api_options.events = &hub;
  messaging::MessagingHttpApi api(
      &service, users->get(),
      [jwt](std::string_view token, int64_t now) { return jwt->Verify(token, now); }, api_options);

  // The local issuer's public keys, for clients that verify tokens themselves.
  std::string jwks;
  std::optional<identity::LocalIssuer> local_issuer;
  if (!identity_config->UsesCognito()) {
    auto issuer = identity::LocalIssuer::Open(options.data_dir);
    if (!issuer.ok()) return Fail("local token issuer", issuer.status());
    local_issuer.emplace(std::move(issuer).value());
    jwks = local_issuer->issuer().JwksJson();
  }
  std::string web_dir = options.web_dir.empty() ? CRUDDUR_WEB_DIR : options.web_dir;
  auto loaded = WebAssets::Load(web_dir);
  if (!loaded.ok() && loaded.status().code() != ErrorCode::kResourceNotFound) {
    return Fail("web page", loaded.status());
  }
  std::optional<WebAssets> web;
  if (loaded.ok()) web.emplace(std::move(loaded).value());
  identity::UsersDirectory* users_ptr = users->get();
  const identity::LocalIssuer* issuer_ptr = local_issuer ? &*local_issuer : nullptr;
  net::HttpHandler api_handler = api.AsHandler();
  net::HttpServerOptions http;
  http.host = options.host;
  http.port = options.api_port;
  http.threads = options.threads;
  auto api_server = net::HttpServer::Start(http, [&](const net::HttpRequest& req,
                                                     net::HttpResponse* resp) {
    if (issuer_ptr != nullptr && req.method == "GET" && req.target == "/.well-known/jwks.json") {
      return JsonReply(200, jwks, resp);
    }
    if (issuer_ptr != nullptr && req.target == "/api/dev/sign_in") {
      if (req.method != "POST") return JsonReply(405, R"({"error":"use POST"})", resp);
      return DevSignIn(users_ptr, *issuer_ptr, NowSeconds(), req, resp);
    }
    if (web && web->Serve(req, resp)) return;
    api_handler(req, resp);
  });
  if (!api_server.ok()) return Fail("messaging API", api_server.status());

  // ---- Demo data ----
  std::string token;
  if (options.demo) {
    auto seeded_users = (*users)->SeedDemoUsers();
    if (!seeded_users.ok()) return Fail("demo users", seeded_users.status());
    if (local_issuer) {
      auto assigned = identity::AssignLocalCognitoUserIds(**users, *local_issuer);
      if (!assigned.ok()) return Fail("demo users", assigned.status());
    }
    auto seeded =
        messaging::SeedDemoConversation(client, kTable, users->get(), messaging::SystemClock()());
    if (!seeded.ok()) return Fail("demo conversation", seeded.status());
    if (local_issuer) {
      auto minted =
          identity::MintLocalAccessToken(**users, *local_issuer, "andrewbrown", NowSeconds());
      if (!minted.ok()) return Fail("demo token", minted.status());
      token = std::move(minted).value();
    }
    std::printf("demo: %d messages between andrewbrown and bayko (group %s)\n",
                seeded->messages_written, seeded->message_group_uuid.c_str());
  }

  std::printf("cruddur serve: messaging API on http://%s:%u, %s\n", options.host.c_str(),
              (*api_server)->port(), where.c_str());
  if (web) {
    std::printf("open http://%s:%u/ for the messaging page\n", options.host.c_str(),
                (*api_server)->port());
  }
  if (!token.empty()) {
    std::printf(
        "try it (token for andrewbrown, valid 1 hour; `cruddur auth token <handle>` mints more):\n"
        "  curl -H 'Authorization: Bearer %s' http://%s:%u/api/message_groups\n",
        token.c_str(), options.host.c_str(), (*api_server)->port());
  }
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::printf("cruddur serve: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*api_server)->RequestStop();
  (*api_server)->Wait();
  if (host) host->Stop();
  if (remote_runner) remote_runner->Stop();
  stream_handler = nullptr;
  return 0;
}

}  // namespace cruddur::cli
