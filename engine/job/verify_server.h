#pragma once

// The servers a verification (key_verifier.h) reads, and how it reads them:
// each has two connections of its own (the source and the target passes read
// at once), its version (which expiry commands it has); the pieces of reply
// handling the passes share. Single-threaded, on the verifier's executor.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/job/key_comparison.h"
#include "engine/link/cluster_slot_map.h"
#include "engine/link/redis_connection.h"
#include "engine/link/redis_reply.h"
#include "engine/rdb/rdb_version.h"
#include "engine/route/key_filter.h"

namespace reshard::engine {

struct VerifyServer {
  std::string what;  // "source", "target 'a'": names it in errors
  RedisEndpoint endpoint;
  std::unique_ptr<RedisConnection> main;  // the source pass (and by-value reads)
  std::unique_ptr<RedisConnection> side;  // the target pass
  std::optional<ServerVersion> version;   // from INFO server; nullopt if unknown
};

struct VerifyTarget {
  std::string name;
  std::unique_ptr<KeyFilter> filter;
  // A standalone target: its one server. A cluster target (cluster set):
  // its masters once OpenVerifyTarget has read the slot map, index-aligned
  // with cluster->masters(); before, the first holds the seeds' credentials.
  // A deque: a master a redirection names joins while others are in use.
  std::deque<VerifyServer> nodes;
  // A cluster target: the nodes its spec (or the verify options) names, and
  // the slot map read from them.
  std::vector<HostPort> seeds;
  std::optional<ClusterSlotMap> cluster;

  bool is_cluster() const { return !seeds.empty(); }
  // The node that holds `key`: the master owning its slot (0 standalone).
  size_t NodeOf(std::string_view key) const;
  VerifyServer& ServerOf(std::string_view key) { return nodes[NodeOf(key)]; }
};

// Connects both connections (AUTH as the endpoint says) and reads the version.
asio::awaitable<absl::Status> OpenVerifyServer(asio::any_io_executor executor,
                                               VerifyServer& server);
// OpenVerifyServer for a standalone target; for a cluster target, reads the
// slot map from the seeds, then opens every master.
asio::awaitable<absl::Status> OpenVerifyTarget(asio::any_io_executor executor,
                                               VerifyTarget& target);
// Keys per db from INFO keyspace.
asio::awaitable<absl::StatusOr<std::map<int, uint64_t>>> ReadKeyspace(RedisConnection& connection);

// The source's master_repl_offset from an INFO replication reply.
absl::StatusOr<uint64_t> TakeSourceOffset(const RedisConnection& connection,
                                          const RespValue& reply);

// PEXPIRETIME: Redis 7.0, every Valkey. HPEXPIRETIME: Redis 7.4, Valkey 9.
bool HasExpireTime(const ServerVersion& version);
bool HasFieldExpiry(const ServerVersion& version);

// DUMP and `expiry_command` (PEXPIRETIME or PTTL) of keys[i] for each i in
// `which`, appended to `commands`.
void AppendKeyReads(const std::vector<std::string>& keys, const std::vector<size_t>& which,
                    const std::string& expiry_command,
                    std::vector<std::vector<std::string>>* commands);
// The same, written as RESP straight into `request` (the hot path: no
// vectors of strings); returns how many commands it appended.
size_t AppendKeyReads(const std::vector<std::string>& keys, const std::vector<size_t>& which,
                      const std::string& expiry_command, std::string* request);
// `count` key reads from the replies to AppendKeyReads, from replies[*at]
// on (moved out); *at is advanced past them. With `redirected`, a key that
// a cluster node redirects (MOVED or ASK, to either read) is no error: its
// index (0 to count-1) is added there and its read left empty.
absl::StatusOr<std::vector<KeyRead>> TakeKeyReads(const RedisConnection& connection,
                                                  std::vector<RespValue>& replies, size_t* at,
                                                  size_t count, const std::string& expiry_command,
                                                  std::vector<size_t>* redirected = nullptr);
// A cluster node's MOVED or ASK error reply.
bool IsClusterRedirect(const RespValue& reply);

}  // namespace reshard::engine
