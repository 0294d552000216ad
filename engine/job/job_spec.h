#pragma once

// JobSpec: what a job is asked to do, in engine terms (the server converts the
// reshard.v1 proto to this). ValidateJobSpec checks everything that can be
// checked without the network.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/endpoint.h"
#include "engine/route/key_filter.h"

namespace reshard::engine {

// A Redis server reshardd connects to, as the spec names it.
struct Endpoint {
  std::string address;  // "host:port"
  Credentials credentials;
};

struct TargetSpec {
  std::string name;
  FilterSpec filter;
  std::string listen;  // "host:port" the target replicates from
  // What the replicating target must present to the listener (its
  // masteruser/masterauth). Empty password: no AUTH required.
  Credentials credentials;
  // Managed target: reshardd connects here and sends REPLICAOF <listen>.
  std::optional<Endpoint> replica;
};

struct JobOptions {
  // Upstream replication ACK period and downstream PING period.
  int ack_interval_ms = 1000;
  int target_ping_interval_ms = 10000;
  // Per-target backlog for partial resynchronisation of a reconnecting target.
  uint64_t target_backlog_bytes = 16 << 20;
  // The RDB reader (and the stream) pause while a target has more than this
  // many bytes waiting for its next socket write (one more such batch can be
  // in flight).
  uint64_t max_target_queue_bytes = 4 << 20;
  // Stream bytes held for a target between the end of its snapshot and its
  // first ACK (while it loads); past this the job fails (like Redis's
  // client-output-buffer-limit for replicas, 256 MB hard).
  uint64_t max_held_stream_bytes = 256ull << 20;
  // How long to wait for every target to attach before failing the job (0: forever).
  int target_attach_timeout_ms = 0;
  // How many times to retry the initial source connection before failing.
  int connect_attempts = 3;
  // How long to keep trying to reconnect (PSYNC <replid> <offset>) when the
  // link to the source drops while streaming, before failing the job.
  int reconnect_window_ms = 60000;
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
// name, a malformed or duplicate listen address, a bad filter.
absl::Status ValidateJobSpec(const JobSpec& spec);

// The spec's addresses, parsed: what the job's links connect to and listen on.
struct JobAddresses {
  RedisEndpoint source;
  std::vector<HostPort> listen;                       // index-aligned with targets
  std::vector<std::optional<RedisEndpoint>> replica;  // managed targets only
};

// Parses every address of `spec` once; the same errors as ValidateJobSpec
// gives for them. ValidateJobSpec calls it.
absl::StatusOr<JobAddresses> ResolveJobAddresses(const JobSpec& spec);

}  // namespace reshard::engine
