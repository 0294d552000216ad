#pragma once

// The stream phase: the source's command stream, parsed where the snapshot
// ended, routed per target by a StreamRouter (stream_router.h: cross-target
// writes materialised beside the stream, commands on other keys passing
// them), appended to each target's master; REPLCONF GETACK answered; a
// dropped source link continued with PSYNC.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Runs until the job finishes (CANCELLED) or fails: DATA_LOSS for a
// malformed stream, FAILED_PRECONDITION for a command that cannot be routed,
// the reconnect's error when the source does not come back.
asio::awaitable<absl::Status> StreamCommands(JobContext& job);

// What the job acknowledges to the source (REPLCONF ACK, and the answer to
// GETACK): with options.ack_mode kApplied the smallest source offset every
// target has confirmed applying (never decreasing), else what was read.
uint64_t UpstreamAckOffset(JobContext& job);

}  // namespace reshard::engine
