#pragma once

// A failover to a source that does not share the replication history the
// job followed (neither its replication id nor its replid2 is the one the
// job streamed, or its backlog does not hold the job's offset): the stream
// cannot continue, so the job starts it again from the new source, as a
// replica would with a full sync:
//   1. PSYNC ? -1 on the job's link to the new source; its RDB is read
//      through and dropped (each target gets a snapshot of its own, below);
//   2. the job streams from the new source's offset, with a new router (no
//      skip windows, no waiting units of the old history);
//   3. every target is abandoned (TargetMaster::Abandon: a new replication
//      id, its replica closed), so its replica asks again and gets a full
//      resync from the resync phase (resync_phase.h): a snapshot of the new
//      source, which replaces everything the target held, stray keys of the
//      old source included.
// The caller (the stream phase) drops its StreamRouter before and makes a
// new one after.

#include <string>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/job/job_context.h"

namespace reshard::engine {

// Steps 1-3 above. The last failover record (kFull) gets why the history
// differs, from the new source's INFO replication ("replication id B (and
// replid2 C) is not A", "offset N is not in its backlog"). UNAVAILABLE when
// the new source cannot be read, the reader's error for a corrupt RDB.
asio::awaitable<absl::Status> RestartStreamOnNewHistory(JobContext& job);

}  // namespace reshard::engine
