#pragma once

// ClusterWriter: reshardd as a client of the masters of one Redis Cluster.
// Discover reads the slot map (CLUSTER SHARDS, CLUSTER SLOTS on servers
// without it) and each master's version; Apply sends a batch of units
// (engine/route/cluster_split.h) pipelined to their masters, every master
// at once, and returns once every unit is acknowledged: a MOVED reply moves
// the slot to the named master in the map and the unit is sent there; an ASK
// reply sends it once to the named node after ASKING; -TRYAGAIN (a
// multi-key command during a slot migration) and an ASK inside a MULTI are
// retried after a pause until the migration settles (kRedirectWindow).
// Units for one master are applied in batch order; a unit for every master
// is a barrier (everything before it is applied first).
// Single-threaded: the executor it is given (the job thread).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/cluster_slot_map.h"
#include "engine/link/redis_connection.h"
#include "engine/rdb/rdb_version.h"
#include "engine/route/cluster_split.h"

namespace reshard::engine {

class ClusterWriter {
 public:
  struct Options {
    std::string name;             // the target's name, in errors
    std::vector<HostPort> seeds;  // the nodes the spec names
    Credentials credentials;      // every node's AUTH
    TlsClientOptions tls;         // every node's TLS
    absl::Duration redirect_window = absl::Seconds(30);
  };

  ClusterWriter(Options options, asio::any_io_executor executor);
  ~ClusterWriter();

  // Asks the seeds in turn for the slot map, then each master for its
  // version. FAILED_PRECONDITION naming the target when a slot is served by
  // no master ("cluster state is not ok"), UNAVAILABLE when no seed answers.
  asio::awaitable<absl::Status> Discover();
  // The oldest master's version (after Discover).
  const std::optional<ServerVersion>& version() const { return version_; }
  const ClusterSlotMap& slot_map() const { return map_; }

  // Applies `units`. Errors name the target, the node and the unit
  // ("target 'c' node 127.0.0.1:7001: RESTORE 'k': -ERR ..."); the batch is
  // then applied in part.
  asio::awaitable<absl::Status> Apply(std::vector<ClusterUnit> units);

  // Units and bytes applied so far, redirections followed.
  uint64_t units_applied() const { return units_applied_; }
  uint64_t redirects() const { return redirects_; }

  // What one node was sent and answered (index-aligned with
  // slot_map().masters(); a node seen only in an ASK has an entry too).
  struct NodeCounters {
    uint64_t commands = 0;       // commands it acknowledged (RESTORE, MULTI, EXEC too; not ASKING)
    uint64_t keys_restored = 0;  // of which RESTOREs (the snapshot's keys)
    uint64_t bytes_sent = 0;     // RESP bytes written to it (a unit sent again counts again)
    // The target stream offset through which it acknowledged everything it
    // was sent (NoteAppliedThrough; 0 during the snapshot).
    uint64_t acked_offset = 0;
    uint64_t moved = 0;      // MOVED replies it gave (the unit went to the new owner)
    uint64_t ask = 0;        // ASK replies it gave (the unit went once after ASKING)
    uint64_t retries = 0;    // TRYAGAIN / CLUSTERDOWN, or an ASK inside a MULTI: sent again
    std::string last_error;  // its last error (reply, connection), "" when none
  };
  // Shorter than masters() when a node was never used.
  const std::vector<NodeCounters>& node_counters() const { return counters_; }
  // Every unit before stream offset `offset` is acknowledged (an Apply
  // returned OK): each node's acked_offset moves up to it.
  void NoteAppliedThrough(uint64_t offset);

  void Close();

 private:
  // A connection to node `index` of the map, made (and authenticated) on first use.
  asio::awaitable<absl::StatusOr<RedisConnection*>> Node(int index);
  // One round over `units` (no unit for every master among them): sends,
  // reads, and leaves in *retry the units to send again.
  asio::awaitable<absl::Status> Round(std::vector<ClusterUnit>& units, std::vector<int>& ask_node,
                                      std::vector<size_t>* retry, bool* pause);
  asio::awaitable<absl::Status> ApplySegment(std::vector<ClusterUnit> units);
  std::string NodeName(int index) const;
  NodeCounters& Counters(int index);
  // Records `status` (not OK) as node `index`'s last error; returns it.
  absl::Status NodeError(int index, absl::Status status);

  Options options_;
  asio::any_io_executor executor_;
  ClusterSlotMap map_;
  std::optional<ServerVersion> version_;
  std::vector<std::unique_ptr<RedisConnection>> nodes_;  // index-aligned with map_.masters()
  uint64_t units_applied_ = 0;
  uint64_t redirects_ = 0;
  std::vector<NodeCounters> counters_;  // grows with map_.masters()
};

}  // namespace reshard::engine
