#include "dynamo/storage/group_commit.h"

#include <algorithm>
#include <future>
#include <utility>

namespace cruddur::dynamo::storage {

GroupCommit::GroupCommit(std::function<uint64_t()> current_mark, std::function<Status()> sync)
    : current_mark_(std::move(current_mark)), sync_(std::move(sync)), syncer_([this] { Run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  syncer_.join();
}

bool GroupCommit::IsDurable(uint64_t mark) const {
  std::lock_guard lock(mu_);
  return error_.ok() && mark <= synced_;
}

void GroupCommit::WhenDurable(uint64_t mark, Done done) {
  Status known;
  {
    std::lock_guard lock(mu_);
    if (error_.ok() && mark > synced_) {
      waiting_.push_back(std::move(done));
      cv_.notify_one();
      return;
    }
    known = error_;
  }
  done(std::move(known));
}

Status GroupCommit::WaitDurable(uint64_t mark) {
  std::promise<Status> promise;
  std::future<Status> result = promise.get_future();
  WhenDurable(mark, [&promise](Status status) { promise.set_value(std::move(status)); });
  return result.get();
}

uint64_t GroupCommit::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

void GroupCommit::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, and nobody waits
    // Every waiter taken here read its mark before registering, so the mark read below (after
    // taking them) is at least theirs: this one sync serves them all. Their marks may already
    // be covered by the previous sync (they registered while it ran); one more sync is the
    // price of not keeping marks per waiter.
    std::vector<Done> batch;
    batch.swap(waiting_);
    Status status = error_;
    if (status.ok()) {
      lock.unlock();
      const uint64_t target = current_mark_();
      status = sync_();
      lock.lock();
      ++syncs_;
      if (status.ok()) {
        synced_ = std::max(synced_, target);
      } else {
        error_ = status;
      }
    }
    lock.unlock();
    for (Done& done : batch) done(status);
    lock.lock();
  }
}

}  // namespace cruddur::dynamo::storage
