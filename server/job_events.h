#pragma once

// The events of a job, derived from two of its published statuses: the engine
// logs nothing on its data path; JobManager's monitor compares each status it
// sees with the one before and logs what changed, once.
//
//   job_state           the job's state changed; the reason is the error
//                       (FAILED) or the job's detail. FAILED is an ERROR,
//                       DEGRADED a WARNING.
//   target_state        a target's state changed; the reason is its
//                       state_reason. CUT_OFF is an ERROR; SPOOLING,
//                       DISCONNECTED and RESYNCING are WARNINGs.
//   target_resync       a target started a full resync without a state
//                       change between the two statuses (else the state
//                       change says "resync N").
//   upstream_lost       the link to the source dropped (the job's detail says
//                       why); WARNING.
//   upstream_reconnected  it was continued (PSYNC).
//   job_restart         what a restart of reshardd costs or cost the job
//                       (status.restore_detail), when it changes.
//   source_backlog      the advice on the source's backlog (whether it
//                       covers a restart), when it changes; WARNING.
//   durable_state_error the job's state stopped being recorded; ERROR.
//   cutover_ended       a cutover ended (DONE: its write pause and final
//                       offset; ROLLED_BACK, an ERROR: why), seen by its
//                       report even when it passed between two statuses.
//
// Targets still WAITING at the first status, and a PENDING job, are not
// events. A change that comes and goes between two statuses the monitor reads
// is not seen.

#include <string_view>
#include <vector>

#include "engine/job/job_status.h"
#include "server/event_log.h"

namespace reshard::server {

// Whether `after` carries the report of a cutover that ended and that
// `before` (null: none seen) did not show ended.
bool CutoverEnded(const engine::JobStatus* before, const engine::JobStatus& after);

// `before` is null for the first status seen of job `job_id`.
std::vector<LogEvent> JobStatusEvents(std::string_view job_id, const engine::JobStatus* before,
                                      const engine::JobStatus& after);

}  // namespace reshard::server
