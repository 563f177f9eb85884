#include "cli/dynamodb_command.h"

#include <signal.h>

#include <cstdio>

#include "cli/engine_host.h"
#include "dynamo/auth/auth_config.h"

namespace cruddur::cli {

int RunDynamoDb(const DynamoDbOptions& options) {
  // Block the stop signals in every thread (the loops inherit this mask); the main thread
  // waits for them with sigwait, so no handler runs on an arbitrary thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto mappings = ReadTriggerOptions(options.trigger_specs, options.triggers_file);
  if (!mappings.ok()) {
    std::fprintf(stderr, "cruddur dynamodb: %s\n", mappings.status().message().c_str());
    return 2;
  }
  EngineHostOptions host_options;
  host_options.host = options.host;
  host_options.port = options.port;
  host_options.data_dir = options.data_dir;
  host_options.in_memory = options.in_memory;
  host_options.sync = options.sync;
  host_options.region = options.region;
  host_options.threads = options.threads;
  host_options.stream_retention_hours = options.stream_retention_hours;
  host_options.ttl_period_seconds = options.ttl_period_seconds;
  host_options.inject_throttling = options.inject_throttling;
  host_options.triggers = std::move(mappings).value();
  if (!options.auth_file.empty()) {
    auto auth = dynamo::auth::LoadAuthFile(options.auth_file);
    if (!auth.ok()) {
      std::fprintf(stderr, "cruddur dynamodb: %s\n", auth.status().message().c_str());
      return 2;
    }
    host_options.auth = std::move(auth).value();
  }
  triggers::NativeHandlerRegistry natives;
  auto host = EngineHost::Start(host_options, &natives);
  if (!host.ok()) {
    std::fprintf(stderr, "cruddur dynamodb: %s\n", host.status().message().c_str());
    return 1;
  }
  std::printf("cruddur dynamodb listening on http://%s:%u (%s)\n", options.host.c_str(),
              (*host)->port(),
              options.in_memory ? "in memory" : ("data in " + options.data_dir).c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::printf("cruddur dynamodb: %s received, shutting down\n",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*host)->Stop();
  return 0;
}

}  // namespace cruddur::cli
