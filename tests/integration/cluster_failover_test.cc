// A failover inside a cluster target (issue 13): a real 3-master cluster
// with one replica per master (cluster-node-timeout 1 s), writes running on
// the source (INCR, APPEND, RPUSH, LPUSH and MULTI/EXEC: writes that would
// double if applied twice, on keys in every master's slots). A master is
// killed (SIGKILL) mid-stream while its replica lags behind (stopped with
// SIGSTOP: the master acknowledged writes the replica never got); the
// cluster promotes the replica.
// reshardd follows it: the job never fails, the status names the failover,
// and every key on every node is exact (nothing lost, nothing applied
// twice). The same with the master killed during the snapshot, after its
// first RESTOREs. Then a master killed together with its replica: no master takes
// over its slots, and the job fails after its reconnect window naming the
// node and the slots, while the service goes on serving other jobs.
//
// Servers: "redis-server" and "redis-cli" on PATH (Debian's Redis 7.0).

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "server/job_manager.h"
#include "tests/support/cluster_shard_check.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/redis_client.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using engine::JobState;
using testing::RedisClient;

constexpr int kNodeTimeoutMs = 1000;

// Writes until *stop, 40 commands a pipeline: most would double if applied
// twice. Keys w:<kind>:<n> hash all over the slots; {t} is one slot.
void WriteNonIdempotent(const testing::RedisServer* source, std::atomic<bool>* stop,
                        std::atomic<int>* rounds) {
  absl::StatusOr<RedisClient> client = source->Client();
  ASSERT_TRUE(client.ok()) << client.status();
  std::mt19937 random(11);
  auto key = [&](const char* kind) { return absl::StrCat("w:", kind, ":", random() % 300); };
  while (!stop->load()) {
    std::vector<std::vector<std::string>> c;
    for (int i = 0; i < 40; ++i) {
      switch (random() % 8) {
        case 0:
          c.push_back({"INCR", key("n")});
          break;
        case 1:
          c.push_back({"APPEND", key("a"), std::to_string(random() % 10)});
          break;
        case 2:
          c.push_back({"RPUSH", key("l"), std::to_string(random() % 100)});
          break;
        case 3:
          c.push_back({"LPUSH", key("l"), std::to_string(random() % 100)});
          break;
        case 4:
          c.push_back({"HINCRBY", key("h"), std::to_string(random() % 5), "3"});
          break;
        case 5:
          c.push_back({"SET", key("s"), std::to_string(random())});
          break;
        case 6:
          c.push_back({"MULTI"});
          c.push_back({"INCR", "{t}counter"});
          c.push_back({"RPUSH", "{t}log", std::to_string(random() % 100)});
          c.push_back({"EXEC"});
          break;
        case 7:
          // Across slots: one transaction per slot on the cluster.
          c.push_back({"MULTI"});
          c.push_back({"INCR", key("n")});
          c.push_back({"APPEND", key("a"), "m"});
          c.push_back({"EXEC"});
          break;
      }
    }
    absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(c);
    ASSERT_TRUE(replies.ok()) << replies.status();
    ++*rounds;
  }
}

void FillSource(RedisClient& client) {
  std::vector<std::vector<std::string>> c;
  for (int i = 0; i < 2000; ++i) {
    c.push_back({"SET", absl::StrCat("seed:", i), std::to_string(i)});
    if (i % 4 == 0) c.push_back({"RPUSH", absl::StrCat("seed:l:", i), "a", "b"});
    if (i % 5 == 0) c.push_back({"PEXPIRE", absl::StrCat("seed:", i), "3600000"});
  }
  testing::RunWithoutErrors(client, c);
}

engine::JobSpec ClusterJob(const testing::RedisServer& source, const testing::TestCluster& cluster,
                           int reconnect_window_ms) {
  engine::JobSpec spec;
  spec.source.address = source.address();
  spec.targets.push_back(testing::MakeClusterTarget("c", cluster.addresses()));
  spec.options.reconnect_window_ms = reconnect_window_ms;
  return spec;
}

// Waits until `server` is a master that says cluster_state:ok.
absl::Status WaitForPromotion(const testing::RedisServer& server) {
  absl::StatusOr<RedisClient> client = server.Client();
  if (!client.ok()) return client.status();
  return RedisClient::WaitFor(
      [&] {
        absl::StatusOr<engine::RespValue> role = client->Command({"ROLE"});
        absl::StatusOr<engine::RespValue> info = client->Command({"CLUSTER", "INFO"});
        return role.ok() && !role->elements.empty() && role->elements[0].str == "master" &&
               info.ok() && info->str.find("cluster_state:ok") != std::string::npos;
      },
      absl::Seconds(30), absl::StrCat(server.address(), " promoted"));
}

// The index of the master that owns {t}'s slot, as the cluster says.
size_t VictimOf(const testing::TestCluster& cluster) {
  RedisClient probe = testing::Connect(*cluster.masters[0]);
  absl::StatusOr<engine::RespValue> slots = probe.CheckedCommand({"CLUSTER", "SLOTS"});
  EXPECT_TRUE(slots.ok()) << slots.status();
  if (!slots.ok()) return 0;
  const int slot = engine::KeyHashSlot("t");
  for (const engine::RespValue& range : slots->elements) {
    if (range.elements[0].integer > slot || range.elements[1].integer < slot) continue;
    for (size_t m = 0; m < cluster.masters.size(); ++m) {
      if (cluster.masters[m]->port() == range.elements[2].elements[1].integer) return m;
    }
  }
  ADD_FAILURE() << "no master owns slot " << slot;
  return 0;
}

// The promoted replica in the dead master's place: markers through the
// stream, then every key of the source compared with the masters.
void ExpectExactAfterFailover(engine::Job& job, RedisClient& source_client,
                              testing::TestCluster& cluster, size_t victim,
                              testing::ShardCheckReport* report) {
  std::swap(cluster.masters[victim], cluster.replicas[victim]);
  auto [clients, masters] = testing::ConnectMasters(cluster);
  absl::Status markers = testing::WaitForMarkers(source_client, masters, job);
  ASSERT_TRUE(markers.ok()) << markers;
  auto every_key = engine::MakeKeyFilter({engine::FilterKind::kSlots, "0-16383"});
  ASSERT_TRUE(every_key.ok());
  absl::StatusOr<testing::ShardCheckReport> checked =
      testing::CheckClusterShards(source_client, **every_key, cluster, masters);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_TRUE(checked->ok()) << checked->Summary();
  *report = std::move(*checked);
}

TEST(ClusterFailoverTest, MasterKilledMidStreamIsFollowedToItsReplicaExactly) {
  absl::StatusOr<testing::TestCluster> cluster =
      testing::StartTestCluster(3, {}, /*with_replicas=*/true, kNodeTimeoutMs);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(FillSource(source_client));

  engine::Job job("cluster-failover", ClusterJob(*source, *cluster, 30000));
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteNonIdempotent, source.get(), &stop, &rounds);
  EXPECT_TRUE(RedisClient::WaitFor([&] { return rounds.load() > 20; }, absl::Seconds(30)).ok());
  // The master of {t} (every round writes it): killed mid-stream.
  const size_t victim = VictimOf(*cluster);
  const std::string victim_address = cluster->masters[victim]->address();
  const std::string successor_address = cluster->replicas[victim]->address();
  // Asynchronous replication: the replica stops reading (SIGSTOP) while the
  // master acknowledges ~15 MB more of APPENDs, more than the kernel's
  // socket buffers between them hold; the master dies with the rest in its
  // own memory, so the promoted replica lacks writes the master had
  // acknowledged to reshardd.
  const pid_t replica_pid = cluster->replicas[victim]->pid();
  ASSERT_EQ(kill(replica_pid, SIGSTOP), 0);
  std::vector<std::vector<std::string>> appends;
  const std::string chunk(10000, 'x');
  for (int i = 0; i < 1500; ++i) {
    appends.push_back({"APPEND", "{t}big", chunk});
    appends.push_back({"INCR", "{t}appends"});
  }
  testing::RunWithoutErrors(source_client, appends);
  RedisClient victim_client = testing::Connect(*cluster->masters[victim]);
  absl::Status applied = RedisClient::WaitFor(
      [&] {
        absl::StatusOr<engine::RespValue> n = victim_client.Command({"GET", "{t}appends"});
        return n.ok() && n->str == "1500";
      },
      absl::Seconds(30), "the appends on the master");
  ASSERT_TRUE(applied.ok()) << applied;
  ASSERT_TRUE(cluster->masters[victim]->Kill().ok());
  ASSERT_EQ(kill(replica_pid, SIGCONT), 0);
  // Until a replica takes the slots over, the target is not said to stream.
  std::string reason;
  absl::Status said = RedisClient::WaitFor(
      [&] {
        engine::JobStatus now = job.Snapshot();
        if (now.targets.empty() || now.targets[0].state != engine::TargetState::kDisconnected) {
          return false;
        }
        reason = now.targets[0].state_reason;
        return true;
      },
      absl::Seconds(30), "the target DISCONNECTED while its master fails over");
  ASSERT_TRUE(said.ok()) << said;
  EXPECT_TRUE(absl::StartsWith(reason, absl::StrCat("cluster node ", victim_address, " (slots ")))
      << reason;
  EXPECT_NE(reason.find("stopped answering"), std::string::npos) << reason;
  EXPECT_NE(reason.find("its slots' writes wait until a replica takes them over"),
            std::string::npos)
      << reason;
  ASSERT_TRUE(WaitForPromotion(*cluster->replicas[victim]).ok());
  // Writes go on after the promotion.
  int after = rounds.load();
  EXPECT_TRUE(
      RedisClient::WaitFor([&] { return rounds.load() > after + 20; }, absl::Seconds(30)).ok());
  stop = true;
  writer.join();

  testing::ShardCheckReport report;
  ASSERT_NO_FATAL_FAILURE(ExpectExactAfterFailover(job, source_client, *cluster, victim, &report));
  for (size_t n : report.keys_per_target) EXPECT_GT(n, 500u) << report.Summary();

  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  ASSERT_EQ(status.targets.size(), 1u);
  EXPECT_EQ(status.targets[0].state, engine::TargetState::kStreaming)
      << status.targets[0].state_reason;
  EXPECT_EQ(status.targets[0].cluster_failovers, 1u);
  EXPECT_NE(status.targets[0].cluster_last_failover.find(
                absl::StrCat("node ", victim_address, " (slots ")),
            std::string::npos)
      << status.targets[0].cluster_last_failover;
  EXPECT_NE(status.targets[0].cluster_last_failover.find(
                absl::StrCat("failed over to ", successor_address)),
            std::string::npos)
      << status.targets[0].cluster_last_failover;
  // The writes the replica lacked were sent again (and only those: the
  // shard check above found no INCR or APPEND applied twice).
  const std::string& last = status.targets[0].cluster_last_failover;
  size_t held = 0, resent = 0;
  size_t at = last.find(" held, ");
  ASSERT_NE(at, std::string::npos) << last;
  ASSERT_TRUE(absl::SimpleAtoi(
      last.substr(last.rfind(' ', at - 1) + 1, at - last.rfind(' ', at - 1) - 1), &held))
      << last;
  ASSERT_TRUE(absl::SimpleAtoi(last.substr(at + 7, last.find(' ', at + 7) - at - 7), &resent))
      << last;
  EXPECT_GT(held, 0u) << last;
  EXPECT_GT(resent, 100u) << last;
  std::cout << "failover: " << last << "\n";
}

// The same during the snapshot: the master of {t} is killed as soon as it
// has acknowledged its first RESTOREs, while the rest of its share is still
// to come and writes run; its replica (which may lack RESTOREs the master
// acknowledged) takes over and gets the rest, and every key is exact.
TEST(ClusterFailoverTest, MasterKilledMidSnapshotIsFollowedToItsReplicaExactly) {
  absl::StatusOr<testing::TestCluster> cluster =
      testing::StartTestCluster(3, {}, /*with_replicas=*/true, kNodeTimeoutMs);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(FillSource(source_client));
  // Enough keys that the snapshot takes a while on any machine.
  constexpr int kSnapshotKeys = 300000;
  const std::string value(64, 'v');
  for (int first = 0; first < kSnapshotKeys; first += 20000) {
    std::vector<std::vector<std::string>> sets;
    for (int i = first; i < first + 20000; ++i) {
      sets.push_back({"SET", absl::StrCat("snap:", i), value});
    }
    testing::RunWithoutErrors(source_client, sets);
  }
  const size_t victim = VictimOf(*cluster);
  const std::string victim_address = cluster->masters[victim]->address();

  engine::Job job("cluster-snapshot-failover", ClusterJob(*source, *cluster, 30000));
  job.Start();
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteNonIdempotent, source.get(), &stop, &rounds);
  uint64_t restored_at_kill = 0;
  absl::Status started = RedisClient::WaitFor(
      [&] {
        engine::JobStatus now = job.Snapshot();
        if (now.targets.empty()) return false;
        for (const engine::ClusterNodeStatus& node : now.targets[0].cluster_nodes) {
          if (node.address == victim_address && node.keys_restored > 0) {
            restored_at_kill = node.keys_restored;
            return true;
          }
        }
        return false;
      },
      absl::Seconds(60), "the victim's first RESTOREs", absl::Milliseconds(1));
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_TRUE(cluster->masters[victim]->Kill().ok());
  engine::JobStatus status = job.Snapshot();
  ASSERT_EQ(status.state, JobState::kSyncing) << "the snapshot ended before the kill";
  EXPECT_LT(restored_at_kill, kSnapshotKeys / 3);
  ASSERT_TRUE(WaitForPromotion(*cluster->replicas[victim]).ok());
  int after = rounds.load();
  EXPECT_TRUE(
      RedisClient::WaitFor([&] { return rounds.load() > after + 20; }, absl::Seconds(30)).ok());
  stop = true;
  writer.join();
  // The writer ran flat out on the same cores: what it wrote during the
  // failover is caught up once it stops.
  status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(120));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;

  testing::ShardCheckReport report;
  ASSERT_NO_FATAL_FAILURE(ExpectExactAfterFailover(job, source_client, *cluster, victim, &report));
  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  ASSERT_EQ(status.targets.size(), 1u);
  EXPECT_EQ(status.targets[0].cluster_failovers, 1u);
  EXPECT_NE(status.targets[0].cluster_last_failover.find(
                absl::StrCat("node ", victim_address, " (slots ")),
            std::string::npos)
      << status.targets[0].cluster_last_failover;
  std::cout << "snapshot failover after " << restored_at_kill
            << " RESTOREs on the victim: " << status.targets[0].cluster_last_failover << "\n";
}

TEST(ClusterFailoverTest, SlotsNoMasterTakesOverFailTheJobNamingNodeAndSlots) {
  absl::StatusOr<testing::TestCluster> cluster =
      testing::StartTestCluster(3, {}, /*with_replicas=*/true, kNodeTimeoutMs);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(FillSource(source_client));

  server::JobManager manager(nullptr);
  const int window_ms = 3000;
  ASSERT_TRUE(manager.Create("cluster", ClusterJob(*source, *cluster, window_ms)).ok());
  auto state_of = [&](const std::string& id) {
    absl::StatusOr<server::JobView> view = manager.Get(id);
    return view.ok() ? view->status : engine::JobStatus{};
  };
  ASSERT_TRUE(
      RedisClient::WaitFor([&] { return state_of("cluster").state == JobState::kStreaming; },
                           absl::Seconds(60))
          .ok())
      << state_of("cluster").error;
  // Master 0's slots, as the cluster says.
  RedisClient probe = testing::Connect(*cluster->masters[1]);
  absl::StatusOr<engine::RespValue> slots = probe.CheckedCommand({"CLUSTER", "SLOTS"});
  ASSERT_TRUE(slots.ok()) << slots.status();
  std::string ranges;
  for (const engine::RespValue& range : slots->elements) {
    if (range.elements[2].elements[1].integer != cluster->masters[0]->port()) continue;
    absl::StrAppend(&ranges, ranges.empty() ? "" : ",", range.elements[0].integer, "-",
                    range.elements[1].integer);
  }
  ASSERT_FALSE(ranges.empty());
  // Its replica first (nothing to promote), then the master; writes to
  // every slot go on.
  ASSERT_TRUE(cluster->replicas[0]->Kill().ok());
  ASSERT_TRUE(cluster->masters[0]->Kill().ok());
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 200; ++i) writes.push_back({"INCR", absl::StrCat("after:", i)});
  testing::RunWithoutErrors(source_client, writes);

  ASSERT_TRUE(RedisClient::WaitFor([&] { return state_of("cluster").state == JobState::kFailed; },
                                   absl::Seconds(40))
                  .ok())
      << state_of("cluster").detail;
  const std::string error(state_of("cluster").error.message());
  EXPECT_NE(error.find(absl::StrCat("target 'c': node ", cluster->masters[0]->address(), " (slots ",
                                    ranges, ") stopped answering")),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("no other master took over its slots within 3s"), std::string::npos)
      << error;

  // The service goes on: another job of the same manager streams.
  std::unique_ptr<testing::RedisServer> standalone = testing::StartServer();
  ASSERT_TRUE(standalone);
  engine::JobSpec other;
  other.source.address = source->address();
  other.targets.push_back(testing::MakeTarget("a", {engine::FilterKind::kSlots, "0-16383"},
                                              testing::PickFreePort(), standalone.get()));
  ASSERT_TRUE(manager.Create("other", other).ok());
  EXPECT_TRUE(RedisClient::WaitFor([&] { return state_of("other").state == JobState::kStreaming; },
                                   absl::Seconds(60))
                  .ok())
      << state_of("other").detail << " " << state_of("other").error;
  EXPECT_EQ(state_of("cluster").state, JobState::kFailed);
}

}  // namespace
}  // namespace reshard::integration
