#include "core/Progress.hpp"

#include <gtest/gtest.h>

#include <string>

namespace taxon::core {
namespace {

using namespace std::chrono_literals;

TEST(RateMeter, MeasuresUnitsPerSecondOverTheWindow) {
  RateMeter meter(10s);
  const auto t0 = RateMeter::Clock::time_point{};
  meter.add(0, t0);
  EXPECT_EQ(meter.perSecond(), 0.0);
  meter.add(500, t0 + 1s);
  meter.add(1000, t0 + 2s);
  EXPECT_DOUBLE_EQ(meter.perSecond(), 500.0);
  ASSERT_TRUE(meter.secondsLeft(3000).has_value());
  EXPECT_DOUBLE_EQ(*meter.secondsLeft(3000), 4.0);
  EXPECT_FALSE(meter.secondsLeft(0).has_value());
}

TEST(RateMeter, ForgetsSamplesOlderThanTheWindow) {
  RateMeter meter(2s);
  const auto t0 = RateMeter::Clock::time_point{};
  meter.add(0, t0);
  meter.add(1000, t0 + 1s);  // fast start
  for (int s = 2; s <= 10; ++s) {
    meter.add(1000 + (s - 1) * 10, t0 + std::chrono::seconds(s));  // then 10 per second
  }
  EXPECT_NEAR(meter.perSecond(), 10.0, 1e-9);
}

TEST(FormatDuration, UsesHoursOnlyWhenNeeded) {
  EXPECT_EQ(formatDuration(7), "0:07");
  EXPECT_EQ(formatDuration(245), "4:05");
  EXPECT_EQ(formatDuration(3723), "1:02:03");
  EXPECT_EQ(formatDuration(-3), "0:00");
}

}  // namespace
}  // namespace taxon::core
