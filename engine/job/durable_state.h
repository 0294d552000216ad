#pragma once

// A job's durable state in options.state_dir (nothing without one): its
// checkpoint journal (job_journal.h), each target's stream log (its
// TargetMaster's), and which managed targets were sent REPLICAOF, written
// with options.fsync. The order that makes a restart safe: a target's bytes
// are in its log before the checkpoint that counts them, and the checkpoint
// is written before they are sent (TargetMaster::SetRecordedOffset), so a
// replica never holds a byte the checkpoint does not know of. A failed write
// stops the recording (the job streams on; durable_error says why and a
// restart then needs a full sync).

#include <cstddef>

#include "absl/status/status.h"
#include "engine/job/job_context.h"
#include "engine/link/stream_log.h"

namespace reshard::engine {

// Opens the journal: job.restored gets what a previous reshardd recorded,
// job.replicaof_sent which targets it configured. A journal that cannot be
// read is moved aside and job.restore_detail says so. A restored job
// (options.restored) also gets the source failovers a previous reshardd
// recorded (failover_history.h).
void OpenDurableState(JobContext& job);
// Writes job.source.failover_history to the state dir (atomically) when it
// changed since the last write; nothing before OpenDurableState. Called with
// every publish of the status, so that a history the status showed is the
// one a restarted reshardd shows. A failed write stops it (durable_error).
void RecordFailoverHistory(JobContext& job);
// Where target i's stream log goes (an empty dir without a state dir).
StreamLog::Options TargetLogOptions(const JobContext& job, size_t i);
// Before a full sync of every target: the old checkpoint is forgotten and
// each target starts a new log.
absl::Status StartFreshDurableState(JobContext& job);
// Records where the stream stands (not inside a transaction: then at its
// EXEC) and lets each target send up to there. Call after appending to the
// targets' streams, before yielding to the event loop.
void RecordJobState(JobContext& job);
// Once a second: hands what was written to the fsync thread (everysec).
void SyncDurableState(JobContext& job);
// When the job stops (SIGTERM, cancel, failure): records and syncs now.
void FlushDurableState(JobContext& job);
// Before REPLICAOF goes to managed target i: notes (durably) that it did, so
// that a restarted reshardd never sends it REPLICAOF again.
absl::Status RecordReplicaOfSent(JobContext& job, size_t i);

}  // namespace reshard::engine
