#pragma once

// Whether the source's replication backlog (repl-backlog-size) holds enough
// of its writes for reshardd to be down options.restart_down_time_ms and
// still continue with PSYNC (no fork, no full sync) when it comes back; the
// status and the log say when it does not, with the size to set, and with
// options.set_source_backlog reshardd sets it (CONFIG SET).

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "asio/awaitable.hpp"

namespace reshard::engine {

class JobContext;

struct BacklogAdvice {
  uint64_t backlog_bytes = 0;      // the source's repl-backlog-size
  double covers_seconds = 0;       // of its writes at the measured rate (0: no writes seen)
  uint64_t recommended_bytes = 0;  // what to set; 0 when the backlog covers the down time
  std::string text;                // for the status and the log; empty when it covers it
};

// A backlog of `backlog_bytes` against writes of `bytes_per_second` and a
// down time: when it holds less, the recommendation is the down time's
// writes plus half again, rounded up to a MiB.
BacklogAdvice AdviseSourceBacklog(uint64_t backlog_bytes, double bytes_per_second,
                                  absl::Duration down_time);

// Runs beside the stream until the job finishes: every few seconds, from the
// source monitor's figures (the write rate over the last minute), updates
// the job's advice, and sets the source's backlog when the job's options say
// so (it only ever grows it).
asio::awaitable<void> RunBacklogAdvisor(JobContext& job);

}  // namespace reshard::engine
