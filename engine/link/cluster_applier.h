#pragma once

// ClusterApplier: the replica of a cluster target's TargetMaster. A Redis
// Cluster node cannot replicate from a non-cluster master, so for a target
// of kind cluster reshardd keeps the TargetMaster (on a loopback listener
// with a generated password) and this applier connects to it as a replica
// does (PSYNC, REPLCONF ACK), then writes what it receives to the cluster's
// masters through a ClusterWriter:
//   - the snapshot as RESTORE key <abs ms> <payload> REPLACE ABSTTL, the
//     payload being the entry's RDB type byte and value bytes with the DUMP
//     footer (the snapshot's RDB version, CRC64), pipelined per master; a
//     value whose payload is over the masters' proto-max-bulk-len as one
//     MULTI that rebuilds it in parts (engine/rdb/rdb_value_rebuild.h);
//     function libraries as FUNCTION LOAD REPLACE on every master;
//   - the stream as its commands routed by slot (engine/route/cluster_split.h).
// It acknowledges an offset to the TargetMaster only once every command
// before it has been acknowledged by the master that owns its slot, so the
// target's acked offset, lag and the job's end-to-end ACK mean what they mean
// for a replica. Run ends with the first error (a command a cluster cannot
// apply, an error reply, a node that does not answer) or when the listener
// closes. With clear_first (a restored job: what each master applied before
// the restart is not known), the keys of the target's filter are deleted
// from the masters first, and the full sync writes them again.
// Single-threaded: the executor it is given (the job thread).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "asio/steady_timer.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/cluster_writer.h"
#include "engine/link/upstream_link.h"
#include "engine/resp/command_table.h"

namespace reshard::engine {

class ClusterApplier {
 public:
  struct Options {
    std::string name;        // the target's name, in errors
    RedisEndpoint listener;  // the TargetMaster's listener and its password
    const CommandTable* commands = &CommandTable::Builtin();  // not owned
    // Snapshot RESTOREs gathered before they are sent (all masters at once).
    size_t batch_bytes = 4 << 20;
    size_t batch_units = 4096;
    // Set: before it attaches, the keys this takes are deleted from every
    // master (a full sync after a restart: keys the source deleted meanwhile
    // must not stay).
    std::function<bool(std::string_view)> clear_first;
  };

  // `writer` has run Discover.
  ClusterApplier(Options options, asio::any_io_executor executor,
                 std::unique_ptr<ClusterWriter> writer);
  ~ClusterApplier();

  // Attaches, applies the snapshot, then the stream, until an error or Stop.
  asio::awaitable<absl::Status> Run();
  // Closes every connection; Run ends.
  void Stop();

  // Progress (job thread): keys restored, stream units applied, the offset
  // acknowledged to the TargetMaster.
  uint64_t keys_restored() const { return keys_restored_; }
  uint64_t acked_offset() const { return acked_offset_; }
  // The target stream offset read so far (what was sent to the applier);
  // 0 before the stream.
  uint64_t read_offset() const { return read_offset_; }
  const ClusterWriter& writer() const { return *writer_; }

 private:
  class SnapshotLoader;
  asio::awaitable<absl::Status> ApplyStream(uint64_t offset);
  void Ack(uint64_t offset);
  asio::awaitable<void> AckEverySecond();

  Options options_;
  asio::any_io_executor executor_;
  std::unique_ptr<ClusterWriter> writer_;
  std::unique_ptr<UpstreamLink> link_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
  uint64_t keys_restored_ = 0;
  uint64_t acked_offset_ = 0;
  uint64_t read_offset_ = 0;
};

}  // namespace reshard::engine
