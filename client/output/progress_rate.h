#pragma once

// ProgressRate: how fast a counter moves, over the last few seconds of
// samples (watch's keys/s for a diskless snapshot).

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace reshard::client {

class ProgressRate {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ProgressRate(Clock::duration window = std::chrono::seconds(10)) : window_(window) {}

  // Records the counter's value at `now`. A value below the last one (the
  // snapshot started again) starts over.
  void Add(uint64_t value, Clock::time_point now);
  // Units per second between the oldest sample of the window and the newest;
  // nullopt until two samples some time apart.
  std::optional<double> PerSecond() const;

 private:
  struct Sample {
    uint64_t value;
    Clock::time_point time;
  };
  Clock::duration window_;
  std::deque<Sample> samples_;
};

}  // namespace reshard::client
