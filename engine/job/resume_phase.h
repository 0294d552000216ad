#pragma once

// The phases of a job a restarted reshardd restores (options.restored):
//   CheckRestoredTargets: every managed target that was sent REPLICAOF must
//     still replicate from its listener; one that does not (promoted with
//     REPLICAOF NO ONE, replicating elsewhere) has left the job: it is never
//     sent REPLICAOF again, its state says why, nothing else touches it.
//   ResumeFromCheckpoint: from what the previous process recorded
//     (job.restored), PSYNC <replid> <offset + 1> to the source: +CONTINUE
//     means no fork; the router and every target's stream are restored from
//     the checkpoint and the targets' logs, and each target that reconnects
//     with PSYNC <its replid> <offset> continues when its log holds that
//     offset (else it gets a full sync of its own). When the source cannot
//     continue (it restarted, its backlog moved on), the job does a fresh
//     full sync of every target instead, and says why in its status (a
//     paused job is resumed for it: a paused target would not get its
//     snapshot).
// Connection failures are retried with backoff, never fail the job.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Marks the managed targets that left the job (job.detached, and their
// masters kNeedsResync with that reason), and learns every reachable
// managed target's version. A target unreachable for a few seconds is left
// unchecked (nothing is sent to it either). Errors: AUTH refused and the like.
asio::awaitable<absl::Status> CheckRestoredTargets(JobContext& job);

// True when the job continues (the stream phase follows; the listeners
// accept); false when it needs a fresh full sync of every target
// (job.restore_detail says why; the listeners accept; the upstream link is
// connected again).
asio::awaitable<absl::StatusOr<bool>> ResumeFromCheckpoint(JobContext& job);

// A failover still PENDING when the previous reshardd stopped (restored
// with the history, failover_history.h): the restarted job went straight to
// the source it knows now (the address set-source kept, the master the
// Sentinels name), so the record says how that went: PARTIAL when the job
// `continued` there, FULL when it needed a full sync of every target.
void SettleFailoverAfterRestart(JobContext& job, bool continued);

}  // namespace reshard::engine
