#pragma once

// The job's phases on the target side, before the snapshot: open each
// target's listener, point managed targets at theirs, wait until every
// target has attached.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Builds each target's filter and master and binds its listener. Errors name
// the field ("targets[1].filter: ...", "targets[1].listen: ...").
absl::Status OpenListeners(JobContext& job);

// For each managed target: connects, authenticates, reads its version (a
// target that cannot load the source's RDB version fails the job before a
// byte is sent), sets masteruser/masterauth and sends REPLICAOF <listen>.
asio::awaitable<absl::Status> ConfigureManagedTargets(JobContext& job);

// Waits until no target is kWaiting. DEADLINE_EXCEEDED after
// options.target_attach_timeout_ms (0: forever), naming the targets.
asio::awaitable<absl::Status> WaitForTargets(JobContext& job);

// OK when every managed target with a known version loads `rdb_version`.
absl::Status CheckTargetsCanLoad(const JobContext& job, int rdb_version);

}  // namespace reshard::engine
