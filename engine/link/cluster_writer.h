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
// A master that stops answering (its connection drops, it refuses
// connections) is followed to the replica the cluster promotes in its
// place: the slot map is read again (with backoff, for failover_window),
// and the writes the old master acknowledged or had in flight are split by
// replication offset into those the new master holds and those sent to it
// again, exactly once (cluster_replay_log.h says how).
// Single-threaded: the executor it is given (the job thread).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/cluster_replay_log.h"
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
    // How long a master's slots may stay without a reachable master after
    // it stopped answering before Apply fails, naming the node and slots.
    absl::Duration failover_window = absl::Seconds(60);
    // Per master, the acknowledged writes kept until its replicas hold them.
    size_t replay_log_bytes = 64 << 20;
  };

  ClusterWriter(Options options, asio::any_io_executor executor);
  ~ClusterWriter();

  // Asks the seeds in turn for the slot map, then each master for its
  // version. FAILED_PRECONDITION naming the target when a slot is served by
  // no master ("cluster state is not ok"), UNAVAILABLE when no seed answers.
  asio::awaitable<absl::Status> Discover();
  // The oldest master's version (after Discover).
  const std::optional<ServerVersion>& version() const { return version_; }
  // The smallest proto-max-bulk-len of the masters (after Discover; Redis's
  // default, 512 MB, for a master that does not say): a RESTORE payload
  // larger than this is refused, so such a value is rebuilt in parts.
  uint64_t max_bulk_bytes() const { return max_bulk_bytes_; }
  const ClusterSlotMap& slot_map() const { return map_; }

  // Applies `units`. Errors name the target, the node and the unit
  // ("target 'c' node 127.0.0.1:7001: RESTORE 'k': -ERR ..."); the batch is
  // then applied in part.
  asio::awaitable<absl::Status> Apply(std::vector<ClusterUnit> units);

  // Deletes from every master the keys `selected` takes (SCAN, then one
  // UNLINK per key: a master's keys may span its slots), on connections of
  // its own. Errors name the node. (cluster_writer_clear.cc)
  asio::awaitable<absl::Status> DeleteKeys(const std::function<bool(std::string_view)>& selected);

  // Units and bytes applied so far, redirections followed.
  uint64_t units_applied() const { return units_applied_; }
  uint64_t redirects() const { return redirects_; }
  // Failovers inside the cluster followed, and the last one
  // ("node 127.0.0.1:7001 (slots 0-5460) failed over to 127.0.0.1:7004: ...").
  uint64_t failovers() const { return failovers_; }
  const std::string& last_failover() const { return last_failover_; }
  // While a failover is being followed: what stopped answering and since
  // when ("node 127.0.0.1:7001 (slots 0-5460) stopped answering (...)");
  // "" otherwise. Its slots' writes wait meanwhile.
  const std::string& failing_over() const { return failing_over_; }
  absl::Time failing_over_since() const { return failing_over_since_; }

  // What one node was sent and answered (index-aligned with
  // slot_map().masters(); a node seen only in an ASK has an entry too).
  struct NodeCounters {
    uint64_t commands = 0;       // commands it acknowledged (RESTORE, MULTI, EXEC too; not ASKING)
    uint64_t keys_restored = 0;  // the snapshot's keys it applied (ClusterUnit::snapshot_key)
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
  // A unit of a round and the node an ASK sends it to (-1: its slot's owner).
  struct Pending {
    ClusterUnit unit;
    int ask_node = -1;
  };
  // What reshardd knows of a master's replication (replid at connect; ROLE
  // and INFO answered: offsets are known) and its replay log.
  struct NodeHistory {
    std::string replid;
    bool offsets = false;
    ClusterReplayLog log;
    int64_t last_reply_offset = -1;  // of the last ROLE reply it sent
    // Replicas in the last ROLE reply (until one, a ROLE per unit is of no use).
    size_t replicas = 1;
  };

  // A connection to node `index` of the map, made (and authenticated) on first use.
  asio::awaitable<absl::StatusOr<RedisConnection*>> Node(int index);
  // The slot map as `node` sees it (CLUSTER SHARDS, or CLUSTER SLOTS).
  asio::awaitable<absl::StatusOr<ClusterSlotMap>> FetchSlotMap(const HostPort& node);
  // One round over `units` (no unit for every master among them): sends,
  // reads, follows the failover of a master that stopped answering, and
  // leaves in *next the units to send again, in order.
  asio::awaitable<absl::Status> Round(std::vector<Pending>& units, std::vector<Pending>* next,
                                      bool* pause);
  asio::awaitable<absl::Status> ApplySegment(std::vector<ClusterUnit> units);
  // cluster_writer_failover.cc: waits (failover_window) until another
  // master serves the slots of `failed`, then returns the units of its
  // replay log the new master lacks.
  asio::awaitable<absl::StatusOr<std::vector<ClusterUnit>>> FollowFailover(int failed,
                                                                           absl::Status cause);
  // Reads the slot map again; OK once every slot in `slots` has a master
  // other than `failed`.
  asio::awaitable<absl::Status> RefreshSlotMap(int failed, const std::vector<int>& slots);
  // Notes ROLE's offsets after a unit and the replicas' acknowledgements.
  void NoteRole(int index, const RespValue& reply, int64_t* offset, int64_t* replicated);
  std::string NodeName(int index) const;
  NodeCounters& Counters(int index);
  // Records `status` (not OK) as node `index`'s last error; returns it.
  absl::Status NodeError(int index, absl::Status status);

  Options options_;
  asio::any_io_executor executor_;
  ClusterSlotMap map_;
  std::optional<ServerVersion> version_;
  static constexpr uint64_t kDefaultMaxBulkBytes = 512ull << 20;
  uint64_t max_bulk_bytes_ = kDefaultMaxBulkBytes;
  std::vector<std::unique_ptr<RedisConnection>> nodes_;  // index-aligned with map_.masters()
  std::vector<NodeHistory> history_;                     // index-aligned with map_.masters()
  uint64_t failovers_ = 0;
  std::string last_failover_;
  std::string failing_over_;
  absl::Time failing_over_since_;
  uint64_t units_applied_ = 0;
  uint64_t redirects_ = 0;
  std::vector<NodeCounters> counters_;  // grows with map_.masters()
};

}  // namespace reshard::engine
