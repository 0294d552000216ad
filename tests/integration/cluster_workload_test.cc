// The randomized full workload (tests/support/random_workload.h, db 0 only)
// on a source with the rich dataset and a function library, before, during
// and after the snapshot, split between a real 3-master Redis Cluster (keys
// not starting with "g") and a standalone Redis (g*) in one job.
// Writes whose keys hash to two slots of the cluster (RENAME, SMOVE,
// SUNIONSTORE, LMOVE, BITOP, PFMERGE, scripts as MULTI, ...) are split per
// slot where that is exact and copied from the source where it is not, as
// are those across the two targets. Then every key of the source is on the
// master that owns its slot, or on the standalone target, with the same
// value and expiry, nothing else anywhere, and every master has the
// source's function library.
//
// Servers: "redis-server" and "redis-cli" on PATH (Debian's Redis 7.0).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "tests/support/cluster_shard_check.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/random_workload.h"
#include "tests/support/redis_client.h"
#include "tests/support/rich_dataset.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using engine::JobState;
using testing::RedisClient;

absl::Status RunBatch(RedisClient& client, const testing::Commands& commands) {
  // Error replies (RENAME of a missing key, XGROUP CREATE of an existing
  // group, ...) are part of the workload.
  return client.Pipeline(commands).status();
}

TEST(ClusterWorkloadTest, RandomWorkloadIntoAClusterAndAStandaloneTargetIsExact) {
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  std::unique_ptr<testing::RedisServer> standalone = testing::StartServer();
  ASSERT_TRUE(source && standalone);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_TRUE(
      source_client
          .CheckedCommand({"FUNCTION", "LOAD", "REPLACE", testing::kWorkloadFunctionLibrary})
          .ok());
  ASSERT_NO_FATAL_FAILURE(testing::FillRichDataset(source_client, 1000));
  testing::WorkloadOptions options;
  options.single_db = true;
  testing::RandomWorkload before(20240601, options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(RunBatch(source_client, before.Batch(100)).ok());
  // Slow the snapshot so that writes land during it.
  ASSERT_TRUE(source_client.CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "1000"}).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer([&, port = source->port()] {
    absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port);
    ASSERT_TRUE(client.ok()) << client.status();
    testing::RandomWorkload workload(7, options);
    while (!stop.load()) {
      ASSERT_TRUE(RunBatch(*client, workload.Batch(40)).ok());
      ++rounds;
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });

  engine::JobSpec spec;
  spec.source.address = source->address();
  const engine::FilterSpec high{engine::FilterKind::kRegex, "^[^g]"};
  const engine::FilterSpec low{engine::FilterKind::kGlob, "g*"};
  engine::TargetSpec c;
  c.name = "c";
  c.cluster.emplace();
  c.cluster->nodes = {cluster->masters[0]->address()};
  c.filter = high;
  spec.targets.push_back(c);
  spec.targets.push_back(
      testing::MakeTarget("low", low, testing::PickFreePort(), standalone.get()));
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok()) << engine::ValidateJobSpec(spec);
  engine::Job job("cluster-workload", spec);
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  ASSERT_TRUE(source_client.CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "0"}).ok());
  int at_stream = rounds.load();
  ASSERT_TRUE(
      RedisClient::WaitFor([&] { return rounds.load() > at_stream + 150; }, absl::Seconds(60))
          .ok());
  stop = true;
  writer.join();

  // Markers, one per master and one for the standalone target: everything
  // before them is applied.
  auto [clients, masters] = testing::ConnectMasters(*cluster);
  RedisClient low_client = testing::Connect(*standalone);
  // One in each third of the slots (each master's), one for the standalone.
  std::vector<std::string> markers = {"g:marker"};
  for (int i = 0, third = 0; third < 3; ++i) {
    std::string marker = absl::StrCat("marker", i);
    if (engine::KeyHashSlot(marker) / 5462 != third) continue;
    markers.push_back(marker);
    ++third;
  }
  for (const std::string& marker : markers) {
    ASSERT_TRUE(source_client.CheckedCommand({"SET", marker, "1"}).ok());
  }
  for (const std::string& marker : markers) {
    absl::Status arrived = RedisClient::WaitFor(
        [&] {
          std::vector<RedisClient*> all = masters;
          all.push_back(&low_client);
          for (RedisClient* client : all) {
            absl::StatusOr<engine::RespValue> exists = client->Command({"EXISTS", marker});
            if (exists.ok() && exists->integer == 1) return true;
          }
          return false;
        },
        absl::Seconds(120), marker);
    engine::JobStatus now = job.Snapshot();
    ASSERT_TRUE(arrived.ok()) << arrived << "; job " << engine::JobStateName(now.state) << ": "
                              << now.error << " " << now.detail;
  }

  auto high_filter = engine::MakeKeyFilter(high);
  auto low_filter = engine::MakeKeyFilter(low);
  ASSERT_TRUE(high_filter.ok() && low_filter.ok());
  absl::StatusOr<testing::ShardCheckReport> in_cluster =
      testing::CheckClusterShards(source_client, **high_filter, *cluster, masters);
  ASSERT_TRUE(in_cluster.ok()) << in_cluster.status();
  EXPECT_TRUE(in_cluster->ok()) << in_cluster->Summary();
  for (size_t n : in_cluster->keys_per_target) EXPECT_GT(n, 100u) << in_cluster->Summary();
  absl::StatusOr<testing::ShardCheckReport> in_low =
      testing::CheckShards(source_client, {{"low", low_filter->get(), &low_client}}, 1);
  ASSERT_TRUE(in_low.ok()) << in_low.status();
  EXPECT_TRUE(in_low->ok()) << in_low->Summary();
  EXPECT_GT(in_low->keys_per_target.at(0), 30u) << in_low->Summary();

  // The function library reached every master (from the snapshot).
  for (RedisClient* master : masters) {
    absl::StatusOr<engine::RespValue> libraries =
        master->CheckedCommand({"FUNCTION", "LIST", "LIBRARYNAME", "wl"});
    ASSERT_TRUE(libraries.ok()) << libraries.status();
    EXPECT_EQ(libraries->elements.size(), 1u);
  }

  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.error;
  ASSERT_EQ(status.targets.size(), 2u);
  // Writes across slots of the cluster were copied, not refused.
  EXPECT_GT(status.targets[0].keys_materialized, 100u);
  for (const engine::ClusterNodeStatus& node : status.targets[0].cluster_nodes) {
    EXPECT_EQ(node.last_error, "") << node.address;
  }
  job.Cancel();
  EXPECT_EQ(testing::WaitForState(job, JobState::kCancelled, absl::Seconds(10)).state,
            JobState::kCancelled);
}

}  // namespace
}  // namespace reshard::integration
