// What a mapping delivers stream records to. Every handler receives a Batch and answers ok
// (the batch is done and will be checkpointed) or an error (the runner retries, bisects or sends
// the batch to the on-failure destination, as the mapping says). Delivery is at least once: a
// handler can see a batch again after a crash or a stop in the middle of its call.
//
// Thread-safety: one mapping calls its handler from its own worker thread, one batch at a time;
// a handler shared by several mappings (a native one) must be thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "triggers/stream_source.h"

namespace cruddur::triggers {

struct Batch {
  std::string mapping;     // the mapping's name
  std::string stream_arn;  // eventSourceARN
  std::string shard_id;
  std::vector<StreamRecord> records;  // in shard order, never empty
  // Set when the runner is stopping; a long-running handler should give up (its batch will be
  // delivered again later). May be nullptr.
  const std::atomic<bool>* cancel = nullptr;

  bool cancelled() const { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }
};

// The Lambda DynamoDB event for the batch (Lambda Developer Guide, "Using AWS Lambda with Amazon
// DynamoDB", example event): {"Records":[...]} where each record is the GetRecords record as
// received (eventID, eventName, eventVersion, eventSource, awsRegion, dynamodb, userIdentity
// when present) plus "eventSourceARN": the stream's ARN.
std::string BuildLambdaEvent(const Batch& batch);

class Handler {
 public:
  virtual ~Handler() = default;
  virtual Status Handle(const Batch& batch) = 0;
};

using NativeHandler = std::function<Status(const Batch&)>;

// Named in-process handlers, e.g. messaging's "message-stream". Register before mappings that
// name a handler are added. Thread-safe.
class NativeHandlerRegistry {
 public:
  // Replaces any handler already registered under `name`.
  void Register(const std::string& name, NativeHandler handler);
  // The handler, or an empty function when none has that name.
  NativeHandler Find(const std::string& name) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, NativeHandler> handlers_;
};

// Adapts a registered native handler to the Handler interface.
class NativeHandlerAdapter : public Handler {
 public:
  explicit NativeHandlerAdapter(NativeHandler fn) : fn_(std::move(fn)) {}
  Status Handle(const Batch& batch) override { return fn_(batch); }

 private:
  NativeHandler fn_;
};

}  // namespace cruddur::triggers
