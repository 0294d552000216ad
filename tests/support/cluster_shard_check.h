#pragma once

// Test clusters and their oracle: StartTestCluster starts masters with
// --cluster-enabled yes (nodes.conf in each server's directory), joins them
// with redis-cli --cluster create and waits for cluster_state:ok on every
// node; CheckClusterShards is CheckShards (shard_check.h) for a cluster
// target: every key of the source's db 0 that the filter selects is on the
// master that owns its slot (as the cluster's CLUSTER SLOTS says now), with
// the same value and expiry, and no master holds anything else.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/job/job.h"
#include "engine/route/key_filter.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/shard_check.h"

namespace reshard::testing {

struct TestCluster {
  std::vector<std::unique_ptr<RedisServer>> masters;
  std::vector<std::unique_ptr<RedisServer>> replicas;  // replicas[i] replicates masters[i]
  std::vector<std::string> addresses() const;          // the masters'
};

// `masters` nodes (at least 3: redis-cli's minimum), slots split evenly;
// with `with_replicas` one replica per master (in sync when this returns).
// `node_timeout_ms`: cluster-node-timeout (how soon a dead master's replica
// takes over).
absl::StatusOr<TestCluster> StartTestCluster(int masters, RedisServerOptions options = {},
                                             bool with_replicas = false,
                                             int node_timeout_ms = 5000);

// Waits until every node says cluster_state:ok.
absl::Status WaitForClusterOk(const TestCluster& cluster, absl::Duration timeout);

// A client of each master: masters[i] is clients[i], of cluster.masters[i].
struct MasterClients {
  std::vector<RedisClient> clients;
  std::vector<RedisClient*> masters;
};
MasterClients ConnectMasters(const TestCluster& cluster);

// The index of the master that owns `key`'s slot (the others answer MOVED);
// a test failure and 0 when none does.
size_t OwnerOf(const std::vector<RedisClient*>& masters, const std::string& key);

// SETs marker0..2 on the source and waits until a master has each (60 s
// apiece): the stream before them is applied. The job's error when it fails
// meanwhile.
absl::Status WaitForMarkers(RedisClient& source, const std::vector<RedisClient*>& masters,
                            const engine::Job& job);

// `masters[i]` is a client of cluster.masters[i].
absl::StatusOr<ShardCheckReport> CheckClusterShards(RedisClient& source,
                                                    const engine::KeyFilter& filter,
                                                    const TestCluster& cluster,
                                                    const std::vector<RedisClient*>& masters);

}  // namespace reshard::testing
