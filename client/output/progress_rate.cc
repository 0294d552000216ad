#include "client/output/progress_rate.h"

namespace reshard::client {

void ProgressRate::Add(uint64_t value, Clock::time_point now) {
  if (!samples_.empty() && value < samples_.back().value) samples_.clear();
  samples_.push_back({value, now});
  // Keep one sample at or before the window's start, so that the rate spans
  // the whole window.
  while (samples_.size() > 2 && now - samples_[1].time >= window_) samples_.pop_front();
}

std::optional<double> ProgressRate::PerSecond() const {
  if (samples_.size() < 2) return std::nullopt;
  const Sample& first = samples_.front();
  const Sample& last = samples_.back();
  const double seconds = std::chrono::duration<double>(last.time - first.time).count();
  if (seconds <= 0) return std::nullopt;
  return static_cast<double>(last.value - first.value) / seconds;
}

}  // namespace reshard::client
