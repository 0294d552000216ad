#pragma once

// Per-target full resync while the job streams, as a Redis master gives one
// to a replica that cannot continue: a target in TargetMaster::kResyncing
// gets a snapshot of its own from a second sync on the source (one more fork
// there), while every other target keeps streaming untouched:
//   1. the job starts holding the target's share of the stream (HeldStream,
//      tagged with source offsets) and sends PSYNC ? -1 on a second link;
//   2. at +FULLRESYNC <replid> <offset> it drops the held bytes at or before
//      that offset (the snapshot has them);
//   3. it sends the target its filtered snapshot from the second link, closes
//      that link, then the held stream, and the target streams as before.
// Targets that need it at the same time share one sync. A failed round (the
// source refused, dropped the link, a corrupt RDB) is retried with backoff;
// the targets show why meanwhile.

#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Runs beside StreamCommands until the job finishes.
asio::awaitable<void> RunTargetResyncs(JobContext& job);

}  // namespace reshard::engine
