#include "tests/support/cluster_shard_check.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/link/cluster_slot_map.h"
#include "tests/support/free_port.h"
#include "tests/support/test_servers.h"

namespace reshard::testing {
namespace {

// The target's filter and the slots of one master.
class BothFilters final : public engine::KeyFilter {
 public:
  BothFilters(const engine::KeyFilter& first, std::unique_ptr<engine::KeyFilter> second)
      : first_(first), second_(std::move(second)) {}
  bool Matches(std::string_view key) const override {
    return first_.Matches(key) && second_->Matches(key);
  }
  std::string Describe() const override {
    return absl::StrCat(first_.Describe(), " and ", second_->Describe());
  }

 private:
  const engine::KeyFilter& first_;
  std::unique_ptr<engine::KeyFilter> second_;
};

}  // namespace

std::vector<std::string> TestCluster::addresses() const {
  std::vector<std::string> out;
  for (const auto& master : masters) out.push_back(master->address());
  return out;
}

absl::StatusOr<TestCluster> StartTestCluster(int masters, RedisServerOptions options,
                                             bool with_replicas, int node_timeout_ms) {
  TestCluster cluster;
  options.extra_args.insert(options.extra_args.end(),
                            {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                             "--cluster-node-timeout", std::to_string(node_timeout_ms)});
  std::vector<std::unique_ptr<RedisServer>> nodes;
  const int count = with_replicas ? 2 * masters : masters;
  for (int i = 0; i < count; ++i) {
    // The bus port on a port of its own: the default (port + 10000) fails
    // for ports above 55535.
    RedisServerOptions node = options;
    node.extra_args.insert(node.extra_args.end(),
                           {"--cluster-port", std::to_string(PickFreePort())});
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(node);
    if (!server.ok()) return server.status();
    nodes.push_back(std::move(*server));
  }
  std::vector<std::string> addresses;
  for (const auto& node : nodes) addresses.push_back(node->address());
  std::string command = absl::StrCat(
      "redis-cli --cluster create ", absl::StrJoin(addresses, " "), " --cluster-replicas ",
      with_replicas ? 1 : 0, " --cluster-yes > ", nodes[0]->dir(), "/cluster-create.log 2>&1");
  if (int rc = std::system(command.c_str()); rc != 0) {
    return absl::InternalError(absl::StrCat("'", command, "' exited with ", rc));
  }
  if (!with_replicas) {
    cluster.masters = std::move(nodes);
  } else {
    // redis-cli chooses which node replicates which: ask each replica, and
    // wait until its link to its master is up (a failover needs it).
    std::vector<std::unique_ptr<RedisServer>> replicas;
    std::vector<uint16_t> master_of;
    for (auto& node : nodes) {
      absl::StatusOr<RedisClient> client = node->Client();
      if (!client.ok()) return client.status();
      uint16_t master_port = 0;
      absl::Status up = RedisClient::WaitFor(
          [&] {
            absl::StatusOr<engine::RespValue> role = client->Command({"ROLE"});
            if (!role.ok() || role->elements.empty()) return false;
            if (role->elements[0].str == "master") {
              master_port = 0;
              return true;
            }
            if (role->elements.size() < 4) return false;
            master_port = role->elements[2].integer;
            return role->elements[3].str == "connected";
          },
          absl::Seconds(60), absl::StrCat(node->address(), " role"));
      if (!up.ok()) return up;
      if (master_port == 0) {
        cluster.masters.push_back(std::move(node));
      } else {
        replicas.push_back(std::move(node));
        master_of.push_back(master_port);
      }
    }
    if (cluster.masters.size() != static_cast<size_t>(masters)) {
      return absl::InternalError(
          absl::StrCat(cluster.masters.size(), " masters after redis-cli --cluster create"));
    }
    cluster.replicas.resize(cluster.masters.size());
    for (size_t r = 0; r < replicas.size(); ++r) {
      for (size_t m = 0; m < cluster.masters.size(); ++m) {
        if (cluster.masters[m]->port() == master_of[r])
          cluster.replicas[m] = std::move(replicas[r]);
      }
    }
    for (const auto& replica : cluster.replicas) {
      if (replica == nullptr) return absl::InternalError("a master without a replica");
    }
  }
  if (absl::Status ok = WaitForClusterOk(cluster, absl::Seconds(60)); !ok.ok()) return ok;
  return cluster;
}

absl::Status WaitForClusterOk(const TestCluster& cluster, absl::Duration timeout) {
  for (const auto& master : cluster.masters) {
    absl::StatusOr<RedisClient> client = master->Client();
    if (!client.ok()) return client.status();
    absl::Status ok = RedisClient::WaitFor(
        [&] {
          absl::StatusOr<engine::RespValue> info = client->Command({"CLUSTER", "INFO"});
          return info.ok() && info->str.find("cluster_state:ok") != std::string::npos;
        },
        timeout, absl::StrCat(master->address(), " cluster_state:ok"));
    if (!ok.ok()) return ok;
  }
  return absl::OkStatus();
}

size_t OwnerOf(const std::vector<RedisClient*>& masters, const std::string& key) {
  for (size_t i = 0; i < masters.size(); ++i) {
    absl::StatusOr<engine::RespValue> exists = masters[i]->Command({"EXISTS", key});
    if (exists.ok() && !exists->IsError()) return i;
  }
  ADD_FAILURE() << "no master owns " << key;
  return 0;
}

absl::StatusOr<ShardCheckReport> CheckClusterShards(RedisClient& source,
                                                    const engine::KeyFilter& filter,
                                                    const TestCluster& cluster,
                                                    const std::vector<RedisClient*>& masters) {
  absl::StatusOr<engine::RespValue> slots = masters[0]->CheckedCommand({"CLUSTER", "SLOTS"});
  if (!slots.ok()) return slots.status();
  engine::HostPort asked{"127.0.0.1", cluster.masters[0]->port()};
  absl::StatusOr<engine::ClusterSlotMap> map = engine::ClusterSlotMap::FromSlots(*slots, asked);
  if (!map.ok()) return map.status();
  std::vector<std::unique_ptr<engine::KeyFilter>> filters;
  std::vector<ShardCheckTarget> targets;
  for (size_t i = 0; i < cluster.masters.size(); ++i) {
    int index = map->IndexOf(engine::HostPort{"127.0.0.1", cluster.masters[i]->port()});
    std::vector<std::string> ranges;
    for (int slot = 0; slot < engine::kClusterSlots;) {
      if (index < 0 || map->owner(slot) != index) {
        ++slot;
        continue;
      }
      int end = slot;
      while (end + 1 < engine::kClusterSlots && map->owner(end + 1) == index) ++end;
      ranges.push_back(absl::StrCat(slot, "-", end));
      slot = end + 1;
    }
    // A master without slots must hold nothing: a slot filter that selects
    // no key of the test's (slot 0 only, and no key may be there).
    std::string pattern = ranges.empty() ? "0" : absl::StrJoin(ranges, ",");
    absl::StatusOr<std::unique_ptr<engine::KeyFilter>> slots_filter =
        engine::MakeKeyFilter({engine::FilterKind::kSlots, pattern});
    if (!slots_filter.ok()) return slots_filter.status();
    filters.push_back(std::make_unique<BothFilters>(filter, std::move(*slots_filter)));
    targets.push_back({cluster.masters[i]->address(), filters.back().get(), masters[i]});
  }
  return CheckShards(source, targets, /*db_count=*/1);
}

MasterClients ConnectMasters(const TestCluster& cluster) {
  MasterClients out;
  for (const auto& master : cluster.masters) out.clients.push_back(Connect(*master));
  for (RedisClient& client : out.clients) out.masters.push_back(&client);
  return out;
}

absl::Status WaitForMarkers(RedisClient& source, const std::vector<RedisClient*>& masters,
                            const engine::Job& job) {
  for (int i = 0; i < 3; ++i) {
    std::string marker = absl::StrCat("marker", i);
    absl::StatusOr<engine::RespValue> set = source.CheckedCommand({"SET", marker, "1"});
    if (!set.ok()) return set.status();
    bool failed = false;
    absl::Status arrived = RedisClient::WaitFor(
        [&] {
          failed = job.Snapshot().state == engine::JobState::kFailed;
          if (failed) return true;
          for (RedisClient* master : masters) {
            absl::StatusOr<engine::RespValue> exists = master->Command({"EXISTS", marker});
            if (exists.ok() && exists->integer == 1) return true;
          }
          return false;
        },
        absl::Seconds(60), marker);
    if (!arrived.ok()) return arrived;
    if (failed) return job.Snapshot().error;
  }
  return absl::OkStatus();
}

}  // namespace reshard::testing
