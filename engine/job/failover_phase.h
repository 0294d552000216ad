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

// A failover during the job's snapshot: the snapshot from the old source is
// abandoned and the caller runs SyncSnapshot again, from the new source.
// `aborted` is how the snapshot ended. It follows when a new source was
// asked for (set-source, a Sentinel's +switch-master: source.pending), or,
// with source.sentinel, when the link to the source was lost (UNAVAILABLE):
// then it waits up to options.reconnect_window_ms for the Sentinels to name
// another master. Otherwise it returns `aborted` (the job fails as before),
// or UNAVAILABLE when no new master came. On OK: the failover is recorded
// kFull with why; every target is abandoned (a new replication id, its
// replica closed: it asks again and gets the new snapshot); the upstream
// link is connected to the new source; the targets' replicas have asked
// again (or options.target_attach_timeout_ms, 30 s when 0, passed: a late
// one gets a resync of its own once the job streams).
asio::awaitable<absl::Status> RestartSnapshotOnNewSource(JobContext& job, absl::Status aborted);

}  // namespace reshard::engine
