#include "engine/job/job_status.h"

namespace reshard::engine {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kPending:
      return "PENDING";
    case JobState::kConnecting:
      return "CONNECTING";
    case JobState::kSyncing:
      return "SYNCING";
    case JobState::kStreaming:
      return "STREAMING";
    case JobState::kPaused:
      return "PAUSED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

bool IsTerminal(JobState state) {
  return state == JobState::kFailed || state == JobState::kCancelled;
}

}  // namespace reshard::engine
