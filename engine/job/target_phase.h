#pragma once

// The job's phases on the target side, before the snapshot: open each
// target's listener, point managed targets at theirs, wait until every
// target has attached.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"
#include "engine/link/redis_connection.h"

namespace reshard::engine {

// Builds each target's filter and master and binds its listener (accepting
// at once unless the job resumes from a checkpoint). Errors name the field
// ("targets[1].filter: ...", "targets[1].listen: ...").
absl::Status OpenListeners(JobContext& job);

// For each managed target: connects, authenticates, reads its version (a
// target that cannot load the source's RDB version fails the job before a
// byte is sent), refuses the source itself under another name (the same
// run_id), notes durably that it does, sets masteruser/masterauth and sends
// REPLICAOF <listen>. A restored job skips the targets it configured before
// and retries unreachable ones.
asio::awaitable<absl::Status> ConfigureManagedTargets(JobContext& job);

// A connection to managed target i, retrying UNAVAILABLE up to `attempts`
// times with backoff (0: once for a new job, forever for a restored one).
asio::awaitable<absl::StatusOr<std::unique_ptr<RedisConnection>>> ConnectManagedTarget(
    JobContext& job, size_t i, int attempts);

// Waits until no target is kWaiting. DEADLINE_EXCEEDED after
// options.target_attach_timeout_ms (0: forever), naming the targets.
asio::awaitable<absl::Status> WaitForTargets(JobContext& job);

// OK when every managed target with a known version loads `rdb_version`.
absl::Status CheckTargetsCanLoad(const JobContext& job, int rdb_version);

}  // namespace reshard::engine
