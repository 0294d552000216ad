#pragma once

// The job's phases on the source side: connect as a replica (with retries),
// learn the source's key positions and version, and reconnect with PSYNC
// <replid> <offset> when the link drops while streaming.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Asks the job to read its source from `endpoint` (set-source, a Sentinel's
// +switch-master): recorded as a pending failover (`why` in its detail) and
// taken by the stream's reconnect, or the next connection attempt. Nothing
// when it is the source already.
void MoveSource(JobContext& job, RedisEndpoint endpoint, std::string_view why);

// Takes the new source address asked for (source.pending), if any: the
// upstream link connects there from its next Connect, the monitor and the
// key copies read from it. The failover itself is recorded by the caller.
void SwitchSource(JobContext& job);

// With source.sentinel, first asks the Sentinels for the master and watches
// them (a +switch-master is MoveSource). Creates the upstream link and
// connects it, retrying UNAVAILABLE up to
// options.connect_attempts times with backoff (a source loading its dataset
// does not count, within options.reconnect_window_ms; a restored job retries
// forever). Takes a new source address asked for meanwhile.
asio::awaitable<absl::Status> ConnectSource(JobContext& job);

// COMMAND (key positions: the built-in table when the source has none or an
// ACL forbids it) and INFO server (the source's version, when it says).
asio::awaitable<void> LearnSource(JobContext& job);

// After the link to the source dropped while streaming: reconnects with
// backoff and continues the stream at source.applied_offset + 1, within
// options.reconnect_window_ms (-LOADING is waited for like any transient
// failure). A new source address asked for (a failover) is taken at the
// next attempt and continued with PSYNC of the replication id and offset
// the job followed; the failover is recorded (source.failover_history). Errors:
// UNAVAILABLE naming the last failure when the window passes;
// FAILED_PRECONDITION when the source can only offer a full resync.
// True when the stream continues; false after a failover to a source that
// does not share the history (recorded kFull): the caller starts the stream
// again (failover_phase.h).
asio::awaitable<absl::StatusOr<bool>> ReconnectSource(JobContext& job, absl::Status lost);

}  // namespace reshard::engine
