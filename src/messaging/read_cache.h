// A bounded, thread-safe LRU cache of the pages every screen opens first: each user's first page
// of message groups and each group's newest page of messages. The stream handler (and this
// process's own writes) invalidate entries, so an unchanged inbox is served without touching
// the table.
//
// Loads race with invalidations: a reader that misses, queries the table and then stores what it
// read must not store a page older than an invalidation that happened meanwhile. Every entry
// therefore carries a stamp from one counter: a miss hands the reader the entry's stamp (a new
// placeholder entry is made if there is none), an invalidation gives the entry a new stamp, and
// Fill stores the page only if the stamp is still the reader's. An entry evicted and made again
// gets a new stamp too, so a reader from before the eviction cannot fill it.
//
// Thread-safety: every call may run from any thread at once (one mutex per cache; the critical
// sections copy a page or a few pointers). Failure modes: none; a cache never fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace cruddur::messaging {

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t invalidations = 0;
  std::size_t entries = 0;
};

template <typename V>
class LruCache {
 public:
  // At most `capacity` entries (placeholders included); at least 1.
  explicit LruCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  struct Lookup {
    std::optional<V> value;   // set on a hit
    std::uint64_t stamp = 0;  // on a miss: pass to Fill
  };

  Lookup Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      Entry& e = *it->second;
      if (e.value) {
        ++stats_.hits;
        return Lookup{e.value, 0};
      }
      ++stats_.misses;
      return Lookup{std::nullopt, e.stamp};
    }
    ++stats_.misses;
    lru_.push_front(Entry{key, ++counter_, std::nullopt});
    map_.emplace(key, lru_.begin());
    EvictLocked();
    return Lookup{std::nullopt, counter_};
  }

  // Stores `value` if nothing invalidated or evicted the entry since the Get that returned
  // `stamp`. Returns whether it was stored.
  bool Fill(const std::string& key, std::uint64_t stamp, V value) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end() || it->second->stamp != stamp) return false;
    it->second->value = std::move(value);
    return true;
  }

  void Invalidate(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.invalidations;
    auto it = map_.find(key);
    if (it == map_.end()) return;
    it->second->stamp = ++counter_;
    it->second->value.reset();
  }

  CacheStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    CacheStats s = stats_;
    s.entries = map_.size();
    return s;
  }

 private:
  struct Entry {
    std::string key;
    std::uint64_t stamp;
    std::optional<V> value;
  };

  void EvictLocked() {
    while (map_.size() > capacity_) {
      map_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> map_;
  std::uint64_t counter_ = 0;
  CacheStats stats_;
};

}  // namespace cruddur::messaging
