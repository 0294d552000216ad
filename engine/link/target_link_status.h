#pragma once

// What a TargetMaster (target_master.h) reports of itself; the job maps it
// into its own TargetStatus.

#include <cstdint>
#include <string>

namespace reshard::engine {

// Where the target stands, as the job reports it.
enum class TargetLinkState {
  kWaiting,       // no replica yet, or attached and waiting for the job's snapshot
  kSnapshot,      // its snapshot is being sent
  kLoading,       // snapshot sent; the stream waits for the replica's first ACK
  kStreaming,     // the stream flows, nothing spooled
  kSpooling,      // the stream waits in the outbox (the replica is behind)
  kResyncing,     // the replica asked for a full sync; waiting for its snapshot
  kCutOff,        // the outbox passed its bound; resynced when the replica asks
  kDisconnected,  // no replica; its stream is kept for a PSYNC (or it needs a resync)
  kPaused,        // delivery paused: the stream waits in the outbox
};

// A target master's view of itself, for the job's status.
struct TargetLinkStatus {
  TargetLinkState state = TargetLinkState::kWaiting;
  std::string reason;     // why it is not streaming
  bool attached = false;  // a replica has sent PSYNC to the listener
  uint32_t connected_replicas = 0;
  uint64_t bytes_sent = 0;    // bytes written to the replica (RDB + stream)
  uint64_t offset = 0;        // the target's own replication offset
  uint64_t acked_offset = 0;  // last REPLCONF ACK from the replica
  uint64_t lag_bytes = 0;     // offset - acked_offset while streaming
  double lag_seconds = 0;     // age of the oldest unacknowledged stream byte
  uint64_t spool_bytes = 0;   // waiting in the outbox (memory + disk)
  uint64_t spool_disk_bytes = 0;
  uint64_t resyncs = 0;  // full resyncs asked for after the job's snapshot
};

}  // namespace reshard::engine
