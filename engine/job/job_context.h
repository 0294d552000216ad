#pragma once

// JobContext: what the phases of one running job share, on the job's thread.
// The runner (job_runner.h) owns it and drives the phases in order:
//   OpenListeners -> ConnectSource -> LearnSource -> ConfigureManagedTargets
//   -> WaitForTargets -> SyncSnapshot -> StreamCommands
// (target_phase.h, source_phase.h, snapshot_phase.h, stream_phase.h); the
// ticker (job_ticker.h), the per-target resyncs (resync_phase.h) and a
// cutover (cutover_phase.h) run beside them. Nothing here is thread-safe: only
// the job thread touches it; the runner publishes snapshots of it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asio/awaitable.hpp"
#include "asio/io_context.hpp"
#include "asio/steady_timer.hpp"
#include "engine/base/status_context.h"
#include "engine/io/file_syncer.h"
#include "engine/job/backlog_advisor.h"
#include "engine/job/cutover_report.h"
#include "engine/job/failover_history.h"
#include "engine/job/held_stream.h"
#include "engine/job/job_checkpoint.h"
#include "engine/job/job_journal.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/job/offset_map.h"
#include "engine/link/cluster_applier.h"
#include "engine/link/key_materializer.h"
#include "engine/link/sentinel_watcher.h"
#include "engine/link/source_monitor.h"
#include "engine/link/source_pause.h"
#include "engine/link/target_master.h"
#include "engine/link/upstream_link.h"
#include "engine/rdb/rdb_version.h"
#include "engine/resp/command_table.h"
#include "engine/route/command_router.h"
#include "engine/route/key_filter.h"
#include "engine/route/rdb_splitter.h"

namespace reshard::engine {

// How long a connection to the source or a target may take, and how long the
// source may take to start sending a snapshot it was asked for (it forks and
// writes or streams it first, sending "\n" keepalives meanwhile).
inline constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
inline constexpr absl::Duration kSnapshotStartTimeout = absl::Hours(1);

// What the job has learnt about its source.
struct SourceState {
  std::string replid;           // the source's replication id (for PSYNC)
  uint64_t applied_offset = 0;  // source offset of the last command read and accepted
  // Every command before this source offset has been routed to the targets
  // (<= applied_offset: the rest waits for key copies, see stream_router.h).
  // What the targets' streams cover; applied_offset is where the stream
  // continues after a reconnect.
  uint64_t routed_offset = 0;
  std::optional<ServerVersion> version;  // from INFO server, when known
  // Key positions: from the source's COMMAND reply when it has one, else the
  // built-in table.
  std::unique_ptr<CommandTable> own_command_table;
  const CommandTable* command_table = &CommandTable::Builtin();
  std::string command_table_note;  // where the key positions came from
  std::string run_id;              // from INFO server: the source's identity
  uint64_t reconnects = 0;
  // A new source address asked for (JobRunner::SetSource) and not taken yet:
  // the link reconnects to it (source_phase.h, SwitchSource).
  std::optional<RedisEndpoint> pending;
  // The failovers asked for, oldest first (the last kKeptSourceFailovers);
  // the last may be kPending. Kept in the state dir (durable_state.h).
  FailoverHistory failover_history;
};

// Progress through the snapshot.
struct SnapshotState {
  uint64_t rdb_start = 0;  // upstream consumed() when the RDB began
  uint64_t rdb_total = 0;  // payload length; 0 when EOF-framed (unknown)
  uint64_t rdb_bytes = 0;  // payload bytes once the snapshot is done
};

class JobContext {
 public:
  // How the context reaches its runner (called on the job thread).
  struct Hooks {
    std::function<void()> publish;           // after every state change
    std::function<void(absl::Status)> fail;  // the job cannot go on
  };
  // `spec` must have passed ValidateJobSpec and outlive the context.
  JobContext(std::string id, const JobSpec& spec, JobAddresses addresses, Hooks hooks);

  // Sets the state and what the job is doing, and publishes. No-op once finished.
  void SetState(JobState state, std::string detail);
  // The source's current address ("host:port"), for messages.
  std::string SourceAddress() const { return addresses.source.address.ToString(); }
  // Fails the job with `status` (first error wins).
  void Fail(absl::Status status) { hooks_.fail(std::move(status)); }
  // Waits `duration` on the job's loop. False when the job finished meanwhile.
  asio::awaitable<bool> Sleep(absl::Duration duration);

  const std::string id;
  const JobSpec& spec;
  // addresses.source is the current source: a failover changes it.
  JobAddresses addresses;
  asio::io_context io;
  asio::steady_timer wake;         // cancelled on attach, resume and finish
  asio::steady_timer resync_wake;  // cancelled when a target asks for a full resync

  JobState state = JobState::kPending;
  std::string detail;
  bool finished = false;
  bool paused = false;
  bool reconnecting = false;  // no ACKs while a new link does its handshake
  // A batch of the stream is being routed: commands are applied whose bytes
  // are not in the targets' streams yet (a materialisation may yield).
  bool routing = false;

  std::vector<std::unique_ptr<KeyFilter>> filters;     // index-aligned with targets
  std::vector<std::unique_ptr<TargetMaster>> targets;  // index-aligned with spec.targets
  // Each cluster target's applier (nullptr for other targets; cluster_target_phase.h).
  std::vector<std::unique_ptr<ClusterApplier>> cluster_appliers;
  // Each managed target's version (nullopt for unmanaged targets).
  std::vector<std::optional<ServerVersion>> target_versions;
  std::unique_ptr<UpstreamLink> upstream;
  std::unique_ptr<RdbSplitter> splitter;
  std::unique_ptr<CommandRouter> router;
  // The source connection that copies keys for cross-target writes; opened
  // on first need.
  std::unique_ptr<KeyMaterializer> materializer;
  // Materializers of a stream started again (failover_phase.h), kept until
  // the job ends: a reader of theirs may still be suspended.
  std::vector<std::unique_ptr<KeyMaterializer>> retired_materializers;
  SourceState source;
  SnapshotState snapshot;
  // With source.sentinel: where the Sentinels say the master is.
  std::unique_ptr<SentinelWatcher> sentinel;
  // Polls the source's own offset and key count on a side connection.
  std::unique_ptr<SourceMonitor> monitor;

  // Per target (index-aligned): its offsets mapped to the source's, the
  // source offset it has confirmed applying, and its share of the stream
  // while it waits for a resync snapshot (null otherwise).
  std::vector<OffsetMap> offset_maps;
  std::vector<uint64_t> source_acked;
  std::vector<std::unique_ptr<HeldStream>> held;
  uint64_t upstream_acked = 0;  // the last REPLCONF ACK sent to the source
  // The cutover running now or the last one (cutover_phase.h), published
  // with the status; and the write pause it holds on the source (released
  // if the job finishes meanwhile).
  std::optional<CutoverReport> cutover;
  std::unique_ptr<SourcePause> source_pause;

  // Durable state (durable_state.h; null without options.state_dir): the
  // fsync thread, the checkpoint journal, what a previous reshardd recorded,
  // which managed targets were sent REPLICAOF, how the job came back after a
  // restart, why its state stopped being recorded. Per target, why it is no
  // longer this job's replica (resume_phase.h); empty while it is.
  std::unique_ptr<FileSyncer> syncer;
  std::unique_ptr<JobJournal> journal;
  std::optional<JobCheckpoint> restored;
  std::vector<bool> replicaof_sent;
  std::string restore_detail;
  std::string durable_error;
  // The failover history as last written to the state dir; nullopt until
  // OpenDurableState read it (nothing is written before).
  std::optional<std::string> recorded_failovers;
  std::string failover_history_problem;  // why it was not restored
  std::vector<std::string> detached;
  BacklogAdvice backlog_advice;  // backlog_advisor.h
  // Spool options for target i's files.
  Spool::Options SpoolOptions(size_t i, std::string_view what) const;

 private:
  Hooks hooks_;
};

}  // namespace reshard::engine
