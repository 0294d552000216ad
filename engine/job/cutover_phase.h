#pragma once

// The cutover: ends a split with a short, measured write pause on the
// source. It runs on the job's thread beside the stream, which goes on
// throughout (JobRunner::StartCutover starts it; the job is CUTOVER):
//   1. wait (options.lag_wait_timeout) until every target streams and is
//      less than options.lag_threshold_bytes behind the source, with side
//      connections to the source and every managed target already open;
//   2. pause the source's writes (SourcePause: CLIENT PAUSE <max_write_pause>
//      WRITE, or ALL on Redis < 6.2) and read its final master_repl_offset
//      at that instant;
//   3. wait until every target has applied the final offset: the job has
//      read it, and the target's ACK (asked for with REPLCONF GETACK, so it
//      comes in a round trip, not once a second) maps back to it;
//   4. with options.promote, REPLICAOF NO ONE on every managed target, each
//      checked to report role:master (a cluster target's nodes are masters
//      already: the step names it and does nothing to it);
//   5. CLIENT UNPAUSE (unless options.leave_source_paused) and the managed
//      targets' key counts (a cluster target's: the sum over its masters).
// A cluster target drains like the others: its applier answers the GETACK
// only once every master has acknowledged every command before it.
// Every step is bounded: the drain and the promotion must end inside
// max_write_pause. When a step fails or would pass the bound, the source is
// unpaused at once, a target already promoted is pointed at reshardd again
// (it resyncs), and the error names the step and why; the job streams on.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Runs the cutover job.cutover describes (its options; the report is filled
// in as the steps pass, and published). OK when every step is done: the
// caller ends the job DONE. Otherwise FAILED_PRECONDITION "cutover step N
// (<what>): <why>[; source unpaused]", after the rollback; CANCELLED when
// the job finished meanwhile.
asio::awaitable<absl::Status> RunCutover(JobContext& job);

}  // namespace reshard::engine
