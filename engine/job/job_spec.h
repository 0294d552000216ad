#pragma once

// JobSpec: what a job is asked to do, in engine terms (the server converts the
// reshard.v1 proto to this). ValidateJobSpec checks everything that can be
// checked without connecting anywhere (host names are resolved, to compare
// addresses).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/endpoint.h"
#include "engine/io/fsync_policy.h"
#include "engine/link/sentinel_watcher.h"
#include "engine/route/key_filter.h"

namespace reshard::engine {

// Sentinels that know where the source's master is (source only).
struct SentinelSpec {
  std::vector<std::string> addresses;  // "host:port" of one or more Sentinels
  std::string master_name;             // as in "sentinel monitor <name> ..."
  Credentials credentials;             // the Sentinels' own (AUTH)
  TlsClientOptions tls;                // tls.enabled: the Sentinels' tls-port
};

// A Redis server reshardd connects to, as the spec names it.
struct Endpoint {
  std::string address;  // "host:port"; with a sentinel, empty: ask it
  Credentials credentials;
  TlsClientOptions tls;  // tls.enabled: every connection to it is TLS
  // Source only: the job asks the Sentinels for the master, and follows
  // their +switch-master (as set-source does).
  std::optional<SentinelSpec> sentinel = std::nullopt;
};

// A Redis Cluster as one target (engine/link/cluster_applier.h): reshardd
// writes to its masters as a client, by hash slot.
struct ClusterSpec {
  std::vector<std::string> nodes;  // "host:port" of one or more nodes (seeds)
  Credentials credentials;         // every node's AUTH
  TlsClientOptions tls;            // tls.enabled: every connection to a node is TLS
};

struct TargetSpec {
  std::string name;
  FilterSpec filter;
  // "host:port" the target replicates from. A cluster target: empty (its
  // TargetMaster listens on 127.0.0.1, a port the system picks, for
  // reshardd's own applier).
  std::string listen;
  // What the replicating target must present to the listener (its
  // masteruser/masterauth). Empty password: no AUTH required.
  Credentials credentials;
  // TLS on the listener (listen_tls.enabled): the target replicates with
  // tls-replication yes (reshardd sets it on a managed target).
  TlsServerOptions listen_tls;
  // Managed target: reshardd connects here and sends REPLICAOF <listen>.
  std::optional<Endpoint> replica;
  // Set: the target is a Redis Cluster (no listen, no replica).
  std::optional<ClusterSpec> cluster;
};

// The filter a target applies: its own, or every key (slots 0-16383) for a
// cluster target whose spec has none (an empty pattern).
FilterSpec TargetFilter(const TargetSpec& target);

struct JobOptions {
  // Upstream replication ACK period and downstream PING period.
  int ack_interval_ms = 1000;
  int target_ping_interval_ms = 10000;
  // Per-target backlog for partial resynchronisation of a reconnecting target.
  uint64_t target_backlog_bytes = 16 << 20;
  // Bytes waiting for a target kept in memory; past this they go to its
  // spool file (spool_dir). The source is never slowed down for a target.
  uint64_t max_target_queue_bytes = 4 << 20;
  // Ignored (kept so that older specs still parse): stream bytes held while a
  // target loads its snapshot are spooled like any other.
  uint64_t max_held_stream_bytes = 256ull << 20;
  // Per-target bound of what waits for it (memory + disk). Past it the target
  // is cut off, and resynced (its own snapshot) when it asks again.
  uint64_t spool_max_bytes = 1ull << 30;
  // Where spool files go (the daemon's --spool_dir, else <state_dir>/spool,
  // else the system's temp dir).
  std::string spool_dir;
  // What the job acknowledges to the source (REPLCONF ACK), so WAIT and
  // min-replicas-to-write on the source mean what the operator asks for.
  enum class AckMode {
    kApplied,   // the smallest source offset every target has applied
    kReceived,  // what reshardd has read from the source
  };
  AckMode ack_mode = AckMode::kApplied;
  // No byte from the source for this long while streaming: the link is taken
  // as dead and re-established with PSYNC (Redis's repl-timeout, 60 s).
  int source_timeout_ms = 60000;
  // A connection to a target listener that has not completed PSYNC within
  // this is closed; at most max_listener_connections at once per listener.
  int listener_handshake_timeout_ms = 10000;
  int max_listener_connections = 16;
  // How long to wait for every target to attach before failing the job (0: forever).
  int target_attach_timeout_ms = 0;
  // How many times to retry the initial source connection before failing.
  int connect_attempts = 3;
  // How long to keep trying to reconnect (PSYNC <replid> <offset>) when the
  // link to the source drops while streaming, before failing the job.
  int reconnect_window_ms = 60000;
  // Durable job state (set by the daemon, like spool_dir): where the job
  // records its checkpoints and its targets' stream logs, so that a
  // restarted reshardd continues it (empty: nothing is recorded), and when
  // those files are fsynced.
  std::string state_dir;
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  // Set by the daemon for a job it restores after a restart: connection
  // failures are retried (never FAILED), managed targets are checked before
  // anything is sent to them.
  bool restored = false;
  // The source's repl-backlog-size should hold this much of its writes (at
  // the rate measured while streaming), so that a restart of reshardd this
  // long continues with PSYNC; the status says when it does not, with the
  // size to set. With set_source_backlog reshardd sets it itself (CONFIG SET
  // repl-backlog-size; it only ever grows it).
  int restart_down_time_ms = 60000;
  bool set_source_backlog = false;
  // A write whose keys belong to different targets and that cannot be split
  // (RENAME, SMOVE, SUNIONSTORE, ...): false copies its keys from the source
  // to their targets (DUMP/RESTORE); true fails the job instead, naming the
  // command, its keys and their targets.
  bool fail_on_cross_target_write = false;
};

struct JobSpec {
  Endpoint source;
  std::vector<TargetSpec> targets;
  JobOptions options;
};

// INVALID_ARGUMENT naming the field ("targets[1].filter.regex: ...") for: no
// source address or a malformed one, no targets, an empty or duplicate target
// name, a malformed or duplicate listen address, a bad filter, a listen or
// managed replica address that is the source, also under another name
// ("targets[0].replica.address: replica address 'localhost:6379' is the
// source (127.0.0.1:6379) under another name"), a TLS file that cannot be
// loaded ("source.tls.ca_file: cannot read '/x': No such file or directory").
absl::Status ValidateJobSpec(const JobSpec& spec);

// Gives every managed target and every cluster target (its loopback
// listener) without a replication password (and without a
// username) a generated one: 32 random bytes in hex. reshardd sets it as the
// target's masterauth, so a managed job's listeners are authenticated by
// default. Called where a job is created (the API conversion), so that the
// password is stored with the job's other secrets and survives a restart;
// engine::Job calls it again for specs that did not go through there.
// Returns how many passwords it generated.
int GenerateReplicationPasswords(JobSpec* spec);

// The spec's addresses, parsed: what the job's links connect to and listen on.
struct JobAddresses {
  // With a Sentinel and no source.address, the host is empty until the
  // Sentinel answered (ConnectSource).
  RedisEndpoint source;
  std::optional<SentinelConfig> sentinel;
  std::vector<HostPort> listen;                       // index-aligned with targets
  std::vector<std::optional<RedisEndpoint>> replica;  // managed targets only
};

// Parses every address of `spec` once; the same errors as ValidateJobSpec
// gives for them. ValidateJobSpec calls it.
absl::StatusOr<JobAddresses> ResolveJobAddresses(const JobSpec& spec);

}  // namespace reshard::engine
