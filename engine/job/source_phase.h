#pragma once

// The job's phases on the source side: connect as a replica (with retries),
// learn the source's key positions and version, and reconnect with PSYNC
// <replid> <offset> when the link drops while streaming.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Creates the upstream link and connects it, retrying UNAVAILABLE up to
// options.connect_attempts times with backoff.
asio::awaitable<absl::Status> ConnectSource(JobContext& job);

// COMMAND (key positions: the built-in table when the source has none or an
// ACL forbids it) and INFO server (the source's version, when it says).
asio::awaitable<void> LearnSource(JobContext& job);

// After the link to the source dropped while streaming: reconnects with
// backoff and continues the stream at source.applied_offset + 1, within
// options.reconnect_window_ms. Errors: UNAVAILABLE naming the last failure
// when the window passes; FAILED_PRECONDITION when the source can only offer
// a full resync.
asio::awaitable<absl::Status> ReconnectSource(JobContext& job, absl::Status lost);

}  // namespace reshard::engine
