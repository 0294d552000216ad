#include "engine/job/verify_report.h"

#include <algorithm>

namespace reshard::engine {

std::string_view VerifyStateName(VerifyState state) {
  switch (state) {
    case VerifyState::kRunning:
      return "RUNNING";
    case VerifyState::kDone:
      return "DONE";
    case VerifyState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

double VerifyReport::progress() const {
  if (state == VerifyState::kDone) return 1.0;
  if (keys_total == 0) return 0.0;
  return std::min(1.0, static_cast<double>(keys_scanned) / static_cast<double>(keys_total));
}

double VerifyReport::keys_per_second() const {
  double seconds = absl::ToDoubleSeconds(duration);
  return seconds > 0 ? static_cast<double>(keys_checked) / seconds : 0.0;
}

absl::Duration VerifyReport::eta() const {
  if (state != VerifyState::kRunning || keys_scanned >= keys_total) return absl::ZeroDuration();
  if (keys_scanned <= precheck_keys || duration <= precheck_duration) return absl::ZeroDuration();
  double rate = static_cast<double>(keys_scanned - precheck_keys) /
                absl::ToDoubleSeconds(duration - precheck_duration);
  return absl::Seconds(static_cast<double>(keys_total - keys_scanned) / rate);
}

}  // namespace reshard::engine
