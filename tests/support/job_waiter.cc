#include "tests/support/job_waiter.h"

namespace reshard::testing {

engine::JobStatus WaitForState(const engine::Job& job, engine::JobState state,
                               absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  engine::JobStatus status = job.Snapshot();
  while (status.state != state && absl::Now() < deadline) {
    if (engine::IsTerminal(status.state)) break;
    status = job.WaitForChange(status.version, absl::Milliseconds(200));
  }
  return status;
}

}  // namespace reshard::testing
