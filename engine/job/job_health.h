#pragma once

// The job's state while it streams tells the truth about its targets: it is
// STREAMING only when every target receives its stream; otherwise DEGRADED,
// and the detail names each target that does not and why. The ticker calls
// RefreshStreamingState every tick.

#include <string>

#include "engine/job/job_context.h"

namespace reshard::engine {

// Target i's state for the status.
TargetState TargetStateOf(const TargetLinkStatus& link);

// While STREAMING or DEGRADED: sets the one that holds (publishing on change).
void RefreshStreamingState(JobContext& job);

}  // namespace reshard::engine
