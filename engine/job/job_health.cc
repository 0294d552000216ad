#include "engine/job/job_health.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {

TargetState TargetStateOf(const TargetLinkStatus& link) {
  switch (link.state) {
    case TargetLinkState::kWaiting:
      return TargetState::kWaiting;
    case TargetLinkState::kSnapshot:
      return TargetState::kSnapshot;
    case TargetLinkState::kLoading:
      return TargetState::kLoading;
    case TargetLinkState::kStreaming:
      return TargetState::kStreaming;
    case TargetLinkState::kSpooling:
      return TargetState::kSpooling;
    case TargetLinkState::kResyncing:
      return TargetState::kResyncing;
    case TargetLinkState::kCutOff:
      return TargetState::kCutOff;
    case TargetLinkState::kDisconnected:
      return TargetState::kDisconnected;
    case TargetLinkState::kPaused:
      return TargetState::kPaused;
  }
  return TargetState::kWaiting;
}

void RefreshStreamingState(JobContext& job) {
  if (job.finished || job.paused) return;
  if (job.state != JobState::kStreaming && job.state != JobState::kDegraded) return;
  std::vector<std::string> lagging;
  for (const auto& target : job.targets) {
    TargetLinkStatus link = target->Status();
    TargetState state = TargetStateOf(link);
    if (state == TargetState::kStreaming) continue;
    lagging.push_back(absl::StrCat("target '", target->name(), "' ", AsAbsl(TargetStateName(state)),
                                   link.reason.empty() ? "" : absl::StrCat(": ", link.reason)));
  }
  if (lagging.empty()) {
    if (job.state == JobState::kDegraded) {
      job.SetState(JobState::kStreaming,
                   absl::StrCat("streaming; ", job.source.command_table_note));
    }
    return;
  }
  std::string detail =
      absl::StrCat("not every target receives its stream: ", absl::StrJoin(lagging, "; "));
  if (job.state != JobState::kDegraded || job.detail != detail) {
    job.SetState(JobState::kDegraded, std::move(detail));
  }
}

}  // namespace reshard::engine
