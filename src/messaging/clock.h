// Time for messaging: the clock seam and the one timestamp format every row uses.
//
// Timestamps are ISO 8601 in UTC with microseconds and an explicit "+00:00" offset, always 32
// characters ("2026-01-01T00:00:00.000000+00:00"), so comparing two as strings compares them as
// times. The seed wrote `datetime.now(timezone.utc).astimezone().isoformat()`, which carries the
// host's local offset and drops ".000000" when the microseconds are zero; neither sorts.
//
// Thread-safety: the functions are pure; a Clock must be callable from any thread (SystemClock
// and ManualClock are).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cruddur::messaging {

// Microseconds since the Unix epoch, UTC.
using Clock = std::function<std::int64_t()>;

// The system's real-time clock.
Clock SystemClock();

// A clock that tests (and the demo seeder) set by hand. Thread-safe.
class ManualClock {
 public:
  explicit ManualClock(std::int64_t micros) : micros_(micros) {}
  std::int64_t Now() const { return micros_.load(); }
  void Set(std::int64_t micros) { micros_.store(micros); }
  void Advance(std::int64_t micros) { micros_.fetch_add(micros); }
  // A Clock reading this object, which must outlive it.
  Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  std::atomic<std::int64_t> micros_;
};

inline constexpr std::size_t kTimestampLength = 32;

// Formats micros (years 1970..9999) as described above.
std::string FormatTimestamp(std::int64_t micros);

// Parses exactly the format FormatTimestamp writes; nullopt for anything else.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);

}  // namespace cruddur::messaging
