// TransactWriteItems' ClientRequestToken memory (API Reference, TransactWriteItems,
// "ClientRequestToken"): a token is valid for 10 minutes after the first request that used it
// completed; within that window an identical request with the same token succeeds without being
// applied again, and a different request with the same token is an
// IdempotentParameterMismatchException.
//
// The cache keeps a fingerprint of each request (a 64-bit hash and the length of its canonical
// JSON text), never the request itself, and at most `max_entries` tokens: when full, expired
// tokens go first and then the oldest ones (an evicted token is treated as new, as DynamoDB
// treats a token after its window).
//
// Thread-safety: all methods are thread-safe (one mutex). Owned by whoever owns the ApiContext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cruddur::dynamo::api {

class IdempotencyCache {
 public:
  static constexpr int64_t kWindowMicros = int64_t{10} * 60 * 1000 * 1000;

  explicit IdempotencyCache(size_t max_entries = 100000) : max_entries_(max_entries) {}

  enum class Outcome {
    kFirst,       // not seen (or expired): run the request, then call Finish
    kReplay,      // the same request completed within the window: answer success, apply nothing
    kMismatch,    // the token was used by a different request within the window
    kInProgress,  // the same token is being processed by another call right now
  };

  // Looks up `token` for a request whose canonical text is `request_text`, and on kFirst
  // records that a request with this token is in progress.
  Outcome Begin(std::string_view token, std::string_view request_text, int64_t now_micros);
  // Ends a request Begin answered kFirst for. A success starts the token's 10-minute window;
  // a failure forgets the token, so a retry runs again (a cancelled or failed transaction wrote
  // nothing).
  void Finish(std::string_view token, bool succeeded, int64_t now_micros);

  size_t size() const;

 private:
  struct Entry {
    uint64_t hash = 0;
    size_t length = 0;
    bool in_progress = true;
    int64_t completed_micros = 0;
  };

  // Drops expired tokens and, with make_room, the oldest ones while the cache is full.
  void EvictLocked(int64_t now_micros, bool make_room);

  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  // Tokens in the order they completed (oldest first), for expiry and eviction; a token may
  // appear more than once (after a re-run), the entry's completed_micros tells which is live.
  std::deque<std::pair<int64_t, std::string>> completed_;
};

}  // namespace cruddur::dynamo::api
