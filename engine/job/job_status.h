#pragma once

// JobStatus: a consistent snapshot of a job, published by the job thread and
// read by the server (GetJob, WatchJob, /metrics). Plain values only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/job/cutover_report.h"

namespace reshard::engine {

enum class JobState {
  kPending,     // created, thread not yet running
  kConnecting,  // connecting to the source, waiting for targets to attach
  kSyncing,     // receiving and splitting the RDB snapshot
  kStreaming,   // forwarding the live command stream to every target
  // Reading the source, but at least one target is not receiving its stream
  // (resyncing, spooling behind, cut off, disconnected); detail says which.
  kDegraded,
  kPaused,  // reading the source and spooling; delivery to targets stopped
  kFailed,
  kCancelled,
  // A cutover runs (status.cutover says which step); the job streams on.
  // Back to STREAMING when it rolls back.
  kCutover,
  // Cut over: every write up to the source's final offset is on every
  // target, and the job has let go of the source and the targets.
  kDone,
};

std::string_view JobStateName(JobState state);  // "PENDING", ...
bool IsTerminal(JobState state);

// Where one target stands.
enum class TargetState {
  kWaiting,       // no replica has attached yet
  kSnapshot,      // receiving its snapshot (the job's, or its own resync)
  kLoading,       // snapshot sent; waiting for the target's first ACK
  kStreaming,     // receiving the stream, nothing spooled
  kSpooling,      // behind: its stream waits in its spool (memory + disk)
  kResyncing,     // asked for a full sync; waiting for its own snapshot
  kCutOff,        // its spool passed options.spool_max_bytes: needs a resync
  kDisconnected,  // no replica connected; its stream is kept for a PSYNC
  kPaused,        // the job is paused: its stream is spooled
};
std::string_view TargetStateName(TargetState state);  // "STREAMING", ...

// One master of a cluster target (TargetSpec::cluster), as the target's
// applier (engine/link/cluster_applier.h) sees it.
struct ClusterNodeStatus {
  std::string address;         // "host:port"
  uint32_t slots = 0;          // hash slots it owns in the applier's map now
  std::string slot_ranges;     // those slots, "0-5460,6000"
  uint64_t commands = 0;       // commands it acknowledged (RESTORE, MULTI, EXEC too)
  uint64_t keys_restored = 0;  // of which snapshot RESTOREs
  uint64_t bytes_sent = 0;     // RESP bytes written to it
  // The target stream offset through which it acknowledged everything it
  // was sent, and how far that is behind what the applier has read.
  uint64_t acked_offset = 0;
  uint64_t lag_bytes = 0;
  uint64_t moved = 0;      // MOVED redirects it answered (followed)
  uint64_t ask = 0;        // ASK redirects it answered (followed)
  uint64_t retries = 0;    // TRYAGAIN / CLUSTERDOWN / ASK in a MULTI: sent again later
  std::string last_error;  // its last error, "" when none
};

struct TargetStatus {
  std::string name;
  TargetState state = TargetState::kWaiting;
  std::string state_reason;  // why it is not streaming (empty when it is)
  bool attached = false;     // a replica has sent PSYNC to the listener
  uint32_t connected_replicas = 0;
  uint64_t rdb_keys_kept = 0;      // keys of the snapshot sent to this target
  uint64_t rdb_keys_dropped = 0;   // keys of the snapshot not for this target
  uint64_t commands_kept = 0;      // stream commands sent (whole or split part)
  uint64_t commands_dropped = 0;   // stream commands with no key for this target
  uint64_t commands_split = 0;     // multi-key commands of which this got a part
  uint64_t keys_materialized = 0;  // keys copied from the source (RESTORE or DEL)
  uint64_t bytes_sent = 0;         // bytes written to the target (RDB + stream)
  uint64_t offset = 0;             // this target's own replication offset
  uint64_t acked_offset = 0;       // last REPLCONF ACK from the target
  uint64_t lag_bytes = 0;          // offset - acked_offset
  double lag_seconds = 0;          // age of the oldest unacknowledged stream byte
  uint64_t spool_bytes = 0;        // bytes waiting for it (memory + disk)
  uint64_t spool_disk_bytes = 0;   // of which on disk
  // The source offset this target has confirmed applying (its ACK mapped
  // back to the source's offsets); 0 before it loaded its snapshot.
  uint64_t source_acked_offset = 0;
  uint64_t resyncs = 0;  // full resyncs of this target after the job's snapshot
  // A cluster target: failovers inside the cluster followed, and the last
  // ("node 127.0.0.1:7001 (slots 0-5460) failed over to 127.0.0.1:7004 ...").
  uint64_t cluster_failovers = 0;
  std::string cluster_last_failover;
  // A cluster target's masters (empty for other targets, and until the
  // cluster's slot map is read).
  std::vector<ClusterNodeStatus> cluster_nodes;
};

// One change of the job's source (set-source, or later a Sentinel's
// +switch-master), and how the job went on from it.
struct SourceFailover {
  enum class Kind {
    kPending,  // asked for; the job has not reached the new source yet
    kPartial,  // PSYNC <replid> <offset> continued on the new source (+CONTINUE)
    kFull,     // the new source does not share the history: a new snapshot
  };
  std::string from;  // the source address before
  std::string to;    // the new source address
  Kind kind = Kind::kPending;
  uint64_t offset = 0;  // the source offset the job continued from
  int64_t unix_ms = 0;  // when it was asked for
  std::string detail;   // "continued with PSYNC: +CONTINUE <replid>", or why not
};
std::string_view SourceFailoverKindName(SourceFailover::Kind kind);  // "PARTIAL", ...

struct JobStatus {
  JobState state = JobState::kPending;
  absl::Status error;            // set when state is kFailed
  std::string detail;            // what the job is doing now, e.g. "waiting for target b"
  uint64_t bytes_received = 0;   // from the source, RDB + stream
  uint64_t rdb_bytes_total = 0;  // 0 when unknown (EOF-framed transfer)
  uint64_t rdb_bytes_read = 0;
  uint64_t rdb_keys_read = 0;
  uint64_t rdb_keys_total = 0;  // the source's key count at job start (INFO keyspace); 0 unknown
  uint64_t source_offset = 0;   // source offset up to which every command reached the targets
  // The source's own master_repl_offset, polled every second on a side
  // connection (0: not known yet), and how far the job is behind it.
  uint64_t source_master_offset = 0;
  uint64_t source_lag_bytes = 0;
  double source_lag_seconds = 0;
  // What the job acknowledges upstream (REPLCONF ACK): with
  // options.ack_mode APPLIED, the smallest source offset every target applied.
  uint64_t upstream_acked_offset = 0;
  uint64_t upstream_reconnects = 0;
  bool upstream_connected = false;
  // The address the job reads its source from now (the spec's, until a
  // failover moved it), and the failovers it followed, oldest first.
  std::string source_address;
  // (The last 32 of them: failover_history.h.) How many of each kind the
  // job followed in all, restarts of reshardd included.
  std::vector<SourceFailover> source_failovers;
  uint64_t source_failovers_partial = 0;
  uint64_t source_failovers_full = 0;
  // What the source is, as its INFO replication (polled every second) says:
  // "master" or "replica" (empty: not known yet); a replica's master
  // ("host:port" as the replica names it) and its master_link_status ("up",
  // "down").
  std::string source_role;
  std::string source_master_address;
  std::string source_master_link_status;
  // How the job came back after reshardd restarted (empty: it did not):
  // "continued after a restart: ..." (no fork; targets from their logs) or
  // "full sync of every target after a restart: <why>".
  std::string restore_detail;
  // Why the job's state is not (or no longer) recorded in the state dir, so
  // that a restart would need a full sync; empty when it is recorded (or
  // there is no state dir).
  std::string durable_state_error;
  // The source's repl-backlog-size, how many seconds of its writes it holds
  // (0: not measured yet, or no writes), and what reshardd advises or did
  // about it (empty while it holds options.restart_down_time_ms of writes).
  uint64_t source_backlog_bytes = 0;
  double source_backlog_seconds = 0;
  std::string source_backlog_advice;
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
  uint64_t version = 0;  // increases with every published change
  std::vector<TargetStatus> targets;
  // The cutover running now, or the last one (done or rolled back).
  std::optional<CutoverReport> cutover;
};

}  // namespace reshard::engine
