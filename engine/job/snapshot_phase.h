#pragma once

// The snapshot phase: one full sync from the source, split as it arrives into
// one RDB per target (RdbSplitter over the upstream link's buffer), then the
// command router set up for the stream that follows in the same buffer.

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// PSYNC ? -1, the RDB framing, the version check (a managed target that
// cannot load the snapshot fails the job before a byte is sent), the split,
// the framing's end. Sets source.replid/applied_offset and job.router.
// Errors: the link's, DATA_LOSS "snapshot from source: rdb offset N ..." for a
// corrupt snapshot (no target's RDB is completed then).
asio::awaitable<absl::Status> SyncSnapshot(JobContext& job);

// job.router for the stream, its source db `source_db` (the snapshot's
// repl-stream-db, or a restored checkpoint's), SET ... PXAT where each target
// takes it.
void MakeRouter(JobContext& job, int source_db);

}  // namespace reshard::engine
