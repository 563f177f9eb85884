#include "messaging/clock.h"

#include <gtest/gtest.h>

namespace cruddur::messaging {
namespace {

TEST(ClockTest, FixedWidthUtcWithMicroseconds) {
  // The seed's isoformat() wrote "2026-01-01T00:00:00+00:00" for a whole second (no fraction)
  // and the host's offset otherwise; both break string order.
  EXPECT_EQ(FormatTimestamp(1767225600LL * 1000000), "2026-01-01T00:00:00.000000+00:00");
  EXPECT_EQ(FormatTimestamp(1767225600LL * 1000000 - 1), "2025-12-31T23:59:59.999999+00:00");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000+00:00");
  EXPECT_EQ(FormatTimestamp(951782400LL * 1000000 + 7), "2000-02-29T00:00:00.000007+00:00");
  for (std::int64_t t : {0LL, 1LL, 999999LL, 1767225600000000LL, 4102444799999999LL}) {
    EXPECT_EQ(FormatTimestamp(t).size(), kTimestampLength);
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(t)), t);
  }
}

TEST(ClockTest, StringOrderIsTimeOrder) {
  const std::int64_t start = 1767225599LL * 1000000;
  std::int64_t prev = start;
  for (std::int64_t t = start + 1; t < start + 3000000; t += 99991) {
    EXPECT_LT(FormatTimestamp(prev), FormatTimestamp(t));
    prev = t;
  }
}

TEST(ClockTest, ParseRejectsOtherSpellings) {
  EXPECT_EQ(ParseTimestamp("2026-01-01T00:00:00+00:00"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2026-01-01T00:00:00.000000+01:00"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2026-01-01T00:00:00.000000Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2026-02-30T00:00:00.000000+00:00"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2026-01-01T24:00:00.000000+00:00"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2026-01-01T00:00:0x.000000+00:00"), std::nullopt);
}

TEST(ClockTest, ManualClock) {
  ManualClock clock(5);
  Clock c = clock.AsClock();
  EXPECT_EQ(c(), 5);
  clock.Advance(10);
  EXPECT_EQ(c(), 15);
  clock.Set(1);
  EXPECT_EQ(c(), 1);
  EXPECT_GT(SystemClock()(), 1767225600LL * 1000000 - 400LL * 86400 * 1000000);
}

}  // namespace
}  // namespace cruddur::messaging
