#pragma once

// ReplicationInfo: a Redis server's replication state as INFO replication
// reports it, and the decision its master side makes on PSYNC, so reshardd
// can tell before it asks (and say why) whether a restarted job can continue
// on the source, and whether a managed target still replicates from it.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::engine {

struct ReplicationInfo {
  std::string role;         // "master" or "slave"
  std::string master_host;  // role slave: whom it replicates from
  uint16_t master_port = 0;
  std::string master_link_status;  // role slave: "up" or "down"
  std::string replid;              // master_replid
  std::string replid2;             // master_replid2 (the previous id, after a failover)
  uint64_t master_repl_offset = 0;
  int64_t second_repl_offset = -1;  // the last offset of replid2; -1 none
  bool backlog_active = false;
  uint64_t backlog_size = 0;  // repl_backlog_size (the setting)
  uint64_t backlog_first_byte_offset = 0;
  uint64_t backlog_histlen = 0;  // bytes the backlog holds
};

// The value of "<name>:<value>" in an INFO reply (any section, e.g. run_id
// of INFO server); empty when absent.
std::string InfoField(std::string_view info, std::string_view name);

// INVALID_ARGUMENT naming a field that is there but not a number, or
// "INFO replication has no role" when the text is not an INFO reply.
absl::StatusOr<ReplicationInfo> ParseReplicationInfo(std::string_view info);

// Why the server would answer PSYNC <replid> <psync_offset> with a full
// resync, as Redis's masterTryPartialResynchronization decides (another
// replication id, an offset its backlog no longer or not yet holds); empty
// when it would continue.
std::string WhyNoPartialSync(const ReplicationInfo& info, std::string_view replid,
                             uint64_t psync_offset);

}  // namespace reshard::engine
