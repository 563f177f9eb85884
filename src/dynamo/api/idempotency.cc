#include "dynamo/api/idempotency.h"

#include <functional>

namespace cruddur::dynamo::api {

IdempotencyCache::Outcome IdempotencyCache::Begin(std::string_view token,
                                                  std::string_view request_text,
                                                  int64_t now_micros) {
  uint64_t hash = std::hash<std::string_view>()(request_text);
  std::lock_guard<std::mutex> lock(mu_);
  EvictLocked(now_micros, /*make_room=*/false);
  auto it = entries_.find(std::string(token));
  if (it != entries_.end()) {
    const Entry& e = it->second;
    bool same = e.hash == hash && e.length == request_text.size();
    if (e.in_progress) return same ? Outcome::kInProgress : Outcome::kMismatch;
    return same ? Outcome::kReplay : Outcome::kMismatch;
  }
  EvictLocked(now_micros, /*make_room=*/true);
  entries_.emplace(std::string(token), Entry{hash, request_text.size(), true, 0});
  return Outcome::kFirst;
}

void IdempotencyCache::Finish(std::string_view token, bool succeeded, int64_t now_micros) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(std::string(token));
  if (it == entries_.end()) return;
  if (!succeeded) {
    entries_.erase(it);
    return;
  }
  it->second.in_progress = false;
  it->second.completed_micros = now_micros;
  completed_.emplace_back(now_micros, it->first);
}

size_t IdempotencyCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void IdempotencyCache::EvictLocked(int64_t now_micros, bool make_room) {
  // completed_ is in completion order, so expired tokens are at its front; to make room for a
  // new token in a full cache the oldest completed tokens go too. In-progress tokens are never
  // evicted (their number is bounded by the requests in flight).
  while (!completed_.empty()) {
    const auto& [when, token] = completed_.front();
    bool expired = now_micros - when >= kWindowMicros;
    bool full = make_room && entries_.size() >= max_entries_;
    if (!expired && !full) break;
    auto it = entries_.find(token);
    if (it != entries_.end() && !it->second.in_progress && it->second.completed_micros == when) {
      entries_.erase(it);
    }
    completed_.pop_front();
  }
}

}  // namespace cruddur::dynamo::api
