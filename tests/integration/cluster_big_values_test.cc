// Values too big for one RESTORE: a cluster whose masters take bulks of at
// most 1 MiB (proto-max-bulk-len 1mb), and a source with values whose DUMP
// payloads are larger, of every type reshardd rebuilds in parts (a string, a
// list, a set, a hash and a sorted set, some with expiries) among the rich
// dataset; then a COPY across slots whose copy from the source is as large. The snapshot
// rebuilds each as one MULTI of commands under the limit; then every key is
// on the master that owns its slot with the same value and expiry.
//
// Servers: "redis-server" and "redis-cli" on PATH (Debian's Redis 7.0).

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "tests/support/cluster_shard_check.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/redis_client.h"
#include "tests/support/rich_dataset.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using engine::JobState;
using testing::RedisClient;

TEST(ClusterBigValuesTest, ValuesOverTheMastersBulkLimitAreRebuiltInPartsExactly) {
  testing::RedisServerOptions small_bulks;
  small_bulks.extra_args = {"--proto-max-bulk-len", "1mb"};
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3, small_bulks);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(testing::FillRichDataset(source_client, 500));  // "big": 2 MiB
  // Random letters: LZF cannot shrink them, so each payload is over 1 MiB.
  std::mt19937 random(5);
  auto letters = [&](size_t n) {
    std::string out(n, 'a');
    for (char& ch : out) ch = static_cast<char>('a' + random() % 26);
    return out;
  };
  std::vector<std::vector<std::string>> c;
  for (int i = 0; i < 1500; ++i) {
    std::string n = std::to_string(i);
    c.push_back({"RPUSH", "huge:list", letters(1000)});
    c.push_back({"SADD", "huge:set", letters(1000)});
    c.push_back({"HSET", "huge:hash", "field" + n, letters(1000)});
    c.push_back({"ZADD", "huge:zset", absl::StrCat(i, ".25"), letters(1000)});
    if (i % 500 == 0) c.push_back({"ZADD", "huge:zset", "-inf", "lowest" + n});
  }
  // A string can be no longer than the limit on the masters (APPEND and
  // SETRANGE refuse to grow one past it), but its payload can be.
  c.push_back({"SET", "huge:string", letters((1 << 20) - 2)});
  c.push_back({"PEXPIRE", "huge:hash", "3600000"});
  c.push_back({"PEXPIRE", "huge:string", "7200000"});
  testing::RunWithoutErrors(source_client, c);

  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(testing::MakeClusterTarget("c", {cluster->masters[2]->address()}));
  engine::Job job("big-values", spec);
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  // A write after the snapshot to each rebuilt key, then a marker.
  testing::RunWithoutErrors(source_client, {{"RPUSH", "huge:list", "after"},
                                            {"SADD", "huge:set", "after"},
                                            {"HSET", "huge:hash", "after", "1"},
                                            {"ZADD", "huge:zset", "1", "after"},
                                            {"SETRANGE", "huge:string", "0", "after"},
                                            // Across slots: copied from the source, too
                                            // big for one RESTORE in the stream too.
                                            {"COPY", "huge:zset", "huge:copy"},
                                            {"SET", "marker", "1"}});
  ASSERT_NE(engine::KeyHashSlot("huge:zset"), engine::KeyHashSlot("huge:copy"));
  auto [clients, masters] = testing::ConnectMasters(*cluster);
  // The marker; and the copy, which commands on other keys do not wait for.
  for (const char* key : {"marker", "huge:copy"}) {
    absl::Status arrived = RedisClient::WaitFor(
        [&] {
          for (RedisClient* master : masters) {
            absl::StatusOr<engine::RespValue> exists = master->Command({"EXISTS", key});
            if (exists.ok() && exists->integer == 1) return true;
          }
          return false;
        },
        absl::Seconds(60), key);
    ASSERT_TRUE(arrived.ok()) << arrived << "; job: " << job.Snapshot().error;
  }

  auto every_key = engine::MakeKeyFilter({engine::FilterKind::kSlots, "0-16383"});
  ASSERT_TRUE(every_key.ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckClusterShards(source_client, **every_key, *cluster, masters);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();

  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.error;
  uint64_t restored = 0;
  for (const engine::ClusterNodeStatus& node : status.targets[0].cluster_nodes) {
    restored += node.keys_restored;
    EXPECT_EQ(node.last_error, "") << node.address;
  }
  EXPECT_EQ(restored, status.targets[0].rdb_keys_kept);
  EXPECT_EQ(status.targets[0].keys_materialized, 1u);  // huge:copy
  job.Cancel();
}

}  // namespace
}  // namespace reshard::integration
