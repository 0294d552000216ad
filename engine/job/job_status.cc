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
    case JobState::kDegraded:
      return "DEGRADED";
    case JobState::kPaused:
      return "PAUSED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
    case JobState::kCutover:
      return "CUTOVER";
    case JobState::kDone:
      return "DONE";
  }
  return "UNKNOWN";
}

std::string_view TargetStateName(TargetState state) {
  switch (state) {
    case TargetState::kWaiting:
      return "WAITING";
    case TargetState::kSnapshot:
      return "SNAPSHOT";
    case TargetState::kLoading:
      return "LOADING";
    case TargetState::kStreaming:
      return "STREAMING";
    case TargetState::kSpooling:
      return "SPOOLING";
    case TargetState::kResyncing:
      return "RESYNCING";
    case TargetState::kCutOff:
      return "CUT_OFF";
    case TargetState::kDisconnected:
      return "DISCONNECTED";
    case TargetState::kPaused:
      return "PAUSED";
  }
  return "UNKNOWN";
}

std::string_view SourceFailoverKindName(SourceFailover::Kind kind) {
  switch (kind) {
    case SourceFailover::Kind::kPending:
      return "PENDING";
    case SourceFailover::Kind::kPartial:
      return "PARTIAL";
    case SourceFailover::Kind::kFull:
      return "FULL";
  }
  return "UNKNOWN";
}

bool IsTerminal(JobState state) {
  return state == JobState::kFailed || state == JobState::kCancelled || state == JobState::kDone;
}

std::string_view CutoverStateName(CutoverState state) {
  switch (state) {
    case CutoverState::kRunning:
      return "RUNNING";
    case CutoverState::kDone:
      return "DONE";
    case CutoverState::kRolledBack:
      return "ROLLED_BACK";
  }
  return "UNKNOWN";
}

}  // namespace reshard::engine
