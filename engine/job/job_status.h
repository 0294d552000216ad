#pragma once

// JobStatus: a consistent snapshot of a job, published by the job thread and
// read by the server (GetJob, WatchJob, /metrics). Plain values only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace reshard::engine {

enum class JobState {
  kPending,     // created, thread not yet running
  kConnecting,  // connecting to the source, waiting for targets to attach
  kSyncing,     // receiving and splitting the RDB snapshot
  kStreaming,   // forwarding the live command stream
  kPaused,
  kFailed,
  kCancelled,
};

std::string_view JobStateName(JobState state);  // "PENDING", ...
bool IsTerminal(JobState state);

struct TargetStatus {
  std::string name;
  bool attached = false;  // a replica has sent PSYNC to the listener
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
};

struct JobStatus {
  JobState state = JobState::kPending;
  absl::Status error;            // set when state is kFailed
  std::string detail;            // what the job is doing now, e.g. "waiting for target b"
  uint64_t bytes_received = 0;   // from the source, RDB + stream
  uint64_t rdb_bytes_total = 0;  // 0 when unknown (EOF-framed transfer)
  uint64_t rdb_bytes_read = 0;
  uint64_t rdb_keys_read = 0;
  uint64_t source_offset = 0;  // source replication offset applied
  uint64_t upstream_reconnects = 0;
  bool upstream_connected = false;
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
  uint64_t version = 0;  // increases with every published change
  std::vector<TargetStatus> targets;
};

}  // namespace reshard::engine
