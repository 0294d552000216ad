#pragma once

// Waiting for an engine::Job under test to reach a state.

#include "absl/time/time.h"
#include "engine/job/job.h"

namespace reshard::testing {

// The job's status once it is in `state`, or in a terminal state (FAILED,
// CANCELLED: the job will not move on), or when `timeout` has passed:
// whichever comes first. The caller checks status.state.
engine::JobStatus WaitForState(const engine::Job& job, engine::JobState state,
                               absl::Duration timeout);

}  // namespace reshard::testing
