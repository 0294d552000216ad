#pragma once

// The phase that gives each cluster target (TargetSpec::cluster) its
// applier: the cluster's slot map and version are read (a cluster that
// cannot load the source's RDB version fails the job before a byte is
// written), then a ClusterApplier (engine/link/cluster_applier.h) attaches
// to the target's loopback listener as its replica. Runs before
// WaitForTargets, which the applier's PSYNC satisfies. In a restored job
// (after a restart) each cluster target gets a full sync of its own, its
// filter's keys deleted from the masters first: what each master applied
// before the restart is not recorded, and a write sent twice could double.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Errors name the target ("target 'c' node 127.0.0.1:7000: ..."). An
// applier that stops with an error fails the job with it.
asio::awaitable<absl::Status> StartClusterAppliers(JobContext& job);

}  // namespace reshard::engine
