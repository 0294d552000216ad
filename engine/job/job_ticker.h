#pragma once

// The job's periodic work, beside the phases: REPLCONF ACK to the source
// (options.ack_interval_ms), "\n" keepalives to targets waiting for their
// snapshot (every second), PING in every target's stream
// (options.target_ping_interval_ms), and a status publish every 100 ms.

#include <functional>

#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Runs until the job finishes. `publish` publishes the job's status.
asio::awaitable<void> RunJobTicker(JobContext& job, std::function<void()> publish);

}  // namespace reshard::engine
