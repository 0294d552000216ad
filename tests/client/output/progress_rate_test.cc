// ProgressRate: units per second over a sliding window of samples.

#include "client/output/progress_rate.h"

#include <gtest/gtest.h>

#include <chrono>

namespace reshard::client {
namespace {

using std::chrono::seconds;

TEST(ProgressRateTest, NeedsTwoSamplesApart) {
  ProgressRate rate;
  const auto t0 = ProgressRate::Clock::time_point() + seconds(100);
  EXPECT_EQ(rate.PerSecond(), std::nullopt);
  rate.Add(10, t0);
  EXPECT_EQ(rate.PerSecond(), std::nullopt);
  rate.Add(10, t0);
  EXPECT_EQ(rate.PerSecond(), std::nullopt);  // no time between them
  rate.Add(30, t0 + seconds(2));
  EXPECT_EQ(rate.PerSecond(), 10.0);
}

TEST(ProgressRateTest, SlidesOverTheWindowAndRestartsWhenTheCounterGoesBack) {
  ProgressRate rate(seconds(10));
  const auto t0 = ProgressRate::Clock::time_point() + seconds(100);
  rate.Add(0, t0);
  rate.Add(1000, t0 + seconds(1));  // a fast start...
  rate.Add(1100, t0 + seconds(11));
  rate.Add(1200, t0 + seconds(21));
  // ...is out of the window: 1100 -> 1200 in 10 s.
  EXPECT_EQ(rate.PerSecond(), 10.0);
  rate.Add(5, t0 + seconds(22));  // a new snapshot
  EXPECT_EQ(rate.PerSecond(), std::nullopt);
  rate.Add(25, t0 + seconds(24));
  EXPECT_EQ(rate.PerSecond(), 10.0);
}

}  // namespace
}  // namespace reshard::client
