// A handler that runs a shell command per batch, as a Lambda function would be invoked: the
// Lambda DynamoDB event JSON on stdin, the environment a Lambda sees, a time limit, and exit
// status 0 meaning success.
//
// The child is `/bin/sh -c <command>` in a process group of its own, with the server's
// environment plus AWS_REGION, AWS_DEFAULT_REGION, AWS_LAMBDA_FUNCTION_NAME (the mapping name),
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_DYNAMODB (the engine's URL, when known, so boto3 and the
// AWS CLI in the handler talk back to this engine) and dummy AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY when the server has none. The signal mask and SIGPIPE disposition are
// reset, and no descriptor of the server leaks into it.
//
// The child's stdout and stderr are passed through line by line, each line prefixed with
// "[<mapping>] ", to `output` (the server's stderr by default). When the time limit passes or the
// batch is cancelled, the whole process group is killed (SIGKILL) and the call fails; after a
// normal exit, leftover background processes of the group are killed too (a Lambda's environment
// is frozen when its handler returns).
//
// Thread-safety: Handle may be called from several threads at once (each call has its own
// child). The calling thread blocks until the child is done, at most the time limit plus a
// moment.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "triggers/handler.h"

namespace cruddur::triggers {

struct CommandEnvironment {
  std::string region = "us-east-1";
  std::string endpoint_url;  // "" = leave AWS_ENDPOINT_URL(_DYNAMODB) as the server has them
};

class CommandHandler : public Handler {
 public:
  // Receives whole lines (without the newline), already prefixed.
  using OutputSink = std::function<void(std::string_view line)>;

  // `output` empty = write to fd 2.
  CommandHandler(std::string mapping, std::string command, CommandEnvironment env,
                 std::chrono::milliseconds timeout, OutputSink output = {});

  Status Handle(const Batch& batch) override;

 private:
  std::string mapping_;
  std::string command_;
  CommandEnvironment env_;
  std::chrono::milliseconds timeout_;
  OutputSink output_;
};

}  // namespace cruddur::triggers
