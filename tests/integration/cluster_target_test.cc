// A Redis Cluster as a target (issue 13): a real 3-master cluster started by
// each test, a source with every data type (TTLs, big values, streams with
// consumer groups) in db 0, and writes before, during and after the
// snapshot: single-key writes, MSET and DEL across slots (split per slot),
// transactions on one slot and across slots. Then every key of the source
// is on the master that owns its slot with the same value and expiry, and
// no master holds anything else. A RENAME of keys in two slots is copied
// key by key; a write a cluster cannot apply (a key outside db 0) then fails
// the job, naming the command and its offset.
// A slot migrated inside the cluster (IMPORTING/MIGRATING, MIGRATE, NODE)
// while its keys are written: MOVED and ASK followed, still exact.
//
// Servers: "redis-server" and "redis-cli" on PATH (Debian's Redis 7.0).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/job/job.h"
#include "engine/job/key_verifier.h"
#include "engine/job/verification.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "tests/support/cluster_shard_check.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/redis_client.h"
#include "tests/support/rich_dataset.h"
#include "tests/support/server_binaries.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using engine::JobState;
using testing::RedisClient;

// Writes a cluster can apply, until *stop: single-key writes, MSET and DEL
// across slots, transactions on one slot ({t}) and across slots.
void WriteClusterTraffic(const testing::RedisServer* source, std::atomic<bool>* stop,
                         std::atomic<int>* rounds) {
  absl::StatusOr<RedisClient> client = source->Client();
  ASSERT_TRUE(client.ok()) << client.status();
  std::mt19937 random(13);
  auto key = [&](const char* kind) { return absl::StrCat("w:", kind, ":", random() % 200); };
  while (!stop->load()) {
    std::vector<std::vector<std::string>> c;
    for (int i = 0; i < 20; ++i) {
      switch (random() % 12) {
        case 0:
          c.push_back({"SET", key("s"), std::to_string(random())});
          break;
        case 1:
          c.push_back({"INCR", key("n")});
          break;
        case 2:
          c.push_back({"RPUSH", key("l"), std::to_string(random() % 100)});
          break;
        case 3:
          c.push_back({"HSET", key("h"), std::to_string(random() % 10), "v"});
          break;
        case 4:
          c.push_back({"SADD", key("set"), std::to_string(random() % 50)});
          break;
        case 5:
          c.push_back({"ZINCRBY", key("z"), "1.5", std::to_string(random() % 20)});
          break;
        case 6:
          c.push_back({"PEXPIRE", key("s"), "900000"});
          break;
        case 7:
          c.push_back({"MSET", key("s"), "m1", key("s"), "m2", key("s"), "m3"});
          break;
        case 8:
          c.push_back({"DEL", key("s"), key("l"), key("h")});
          break;
        case 9:
          c.push_back({"XADD", key("x"), "*", "f", "v"});
          break;
        case 10:
          c.push_back({"MULTI"});
          c.push_back({"INCR", "{t}counter"});
          c.push_back({"RPUSH", "{t}log", std::to_string(random() % 100)});
          c.push_back({"EXEC"});
          break;
        case 11:
          c.push_back({"MULTI"});
          c.push_back({"SET", key("s"), "in-multi"});
          c.push_back({"SADD", key("set"), "in-multi"});
          c.push_back({"SET", "{t}last", std::to_string(random())});
          c.push_back({"EXEC"});
          break;
      }
    }
    absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(c);
    ASSERT_TRUE(replies.ok()) << replies.status();
    ++*rounds;
  }
}

TEST(ClusterTargetTest, SnapshotAndStreamLandOnTheOwningMasters) {
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(testing::FillRichDataset(source_client, 3000));

  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(testing::MakeClusterTarget("c", {cluster->masters[1]->address()}));
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok()) << engine::ValidateJobSpec(spec);

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteClusterTraffic, source.get(), &stop, &rounds);
  engine::Job job("cluster", spec);
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  // Writes after the snapshot too.
  int streamed = rounds.load();
  EXPECT_TRUE(
      RedisClient::WaitFor([&] { return rounds.load() > streamed + 30; }, absl::Seconds(30)).ok());
  stop = true;
  writer.join();

  auto [clients, masters] = testing::ConnectMasters(*cluster);
  absl::Status markers = testing::WaitForMarkers(source_client, masters, job);
  ASSERT_TRUE(markers.ok()) << markers;
  auto every_key = engine::MakeKeyFilter({engine::FilterKind::kSlots, "0-16383"});
  ASSERT_TRUE(every_key.ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckClusterShards(source_client, **every_key, *cluster, masters);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_GT(report->source_keys, 3000u);
  for (size_t n : report->keys_per_target) EXPECT_GT(n, 500u) << report->Summary();

  // The target's status: streaming; every master with its slots, its
  // share of the snapshot and of the stream, acknowledged.
  status = job.Snapshot();
  ASSERT_EQ(status.targets.size(), 1u);
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  const engine::TargetStatus& c = status.targets[0];
  ASSERT_EQ(c.cluster_nodes.size(), 3u);
  uint64_t slots = 0, restored = 0;
  std::vector<std::string> addresses = cluster->addresses();
  for (const engine::ClusterNodeStatus& node : c.cluster_nodes) {
    EXPECT_NE(std::find(addresses.begin(), addresses.end(), node.address), addresses.end())
        << node.address;
    EXPECT_GT(node.slots, 5000u) << node.address;
    EXPECT_FALSE(node.slot_ranges.empty()) << node.address;
    EXPECT_GT(node.keys_restored, 300u) << node.address;
    EXPECT_GT(node.commands, node.keys_restored) << node.address;  // the stream too
    EXPECT_GT(node.bytes_sent, 0u) << node.address;
    EXPECT_GT(node.acked_offset, 0u) << node.address;
    EXPECT_EQ(node.moved + node.ask, 0u) << node.address;  // nothing moved
    EXPECT_EQ(node.last_error, "") << node.address;
    slots += node.slots;
    restored += node.keys_restored;
  }
  EXPECT_EQ(slots, 16384u);
  EXPECT_EQ(restored, c.rdb_keys_kept);

  // A write across slots: what it wrote is copied from the source, each key
  // to the master of its slot.
  ASSERT_NE(engine::KeyHashSlot("rename:a"), engine::KeyHashSlot("rename:b"));
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "rename:a", "1"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"RENAME", "rename:a", "rename:b"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "after-rename", "1"}).ok());
  absl::Status renamed = RedisClient::WaitFor(
      [&] {
        auto exists = [](RedisClient* master, const char* key) {
          absl::StatusOr<engine::RespValue> reply = master->Command({"EXISTS", key});
          return reply.ok() ? reply->integer : 0;
        };
        int after = 0, a = 0, b = 0;
        for (RedisClient* master : masters) {
          after += exists(master, "after-rename");
          a += exists(master, "rename:a");
          absl::StatusOr<engine::RespValue> got = master->Command({"GET", "rename:b"});
          b += got.ok() && got->str == "1";
        }
        return after == 1 && a == 0 && b == 1;
      },
      absl::Seconds(30), "rename:b on its master, rename:a nowhere");
  ASSERT_TRUE(renamed.ok()) << renamed << "; job: " << job.Snapshot().error;
  // The status is published every tick: it may trail the masters a little.
  EXPECT_TRUE(RedisClient::WaitFor([&] { return job.Snapshot().targets[0].keys_materialized == 2; },
                                   absl::Seconds(10), "2 keys materialized")
                  .ok())
      << job.Snapshot().targets[0].keys_materialized;

  // A write a cluster cannot apply (a key outside db 0): the job fails, naming it.
  ASSERT_TRUE(source_client.CheckedCommand({"SELECT", "1"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "elsewhere", "1"}).ok());
  status = testing::WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_NE(status.error.message().find("SET at stream offset "), std::string::npos)
      << status.error;
  EXPECT_NE(status.error.message().find("writes key 'elsewhere' of db 1: a cluster has db 0 only"),
            std::string::npos)
      << status.error;
}

// A Redis 8 source (RDB 12) and a Valkey 9 cluster: Valkey refuses Redis
// 7.4+'s formats as foreign, so the job fails before it writes anything,
// naming both servers and why.
TEST(ClusterTargetTest, ARedis8SourceIntoAValkeyClusterFailsBeforeWritingNamingBoth) {
  const std::string fetched_redis = "redis-8.0/bin/redis-server";
  const std::string fetched_valkey = "valkey-9.1/bin/valkey-server";
  std::optional<std::string> redis8 =
      testing::FindServerBinary("RESHARD_REDIS8_SERVER", fetched_redis);
  std::optional<std::string> valkey9 =
      testing::FindServerBinary("RESHARD_VALKEY9_SERVER", fetched_valkey);
  if (!redis8.has_value() || !valkey9.has_value()) {
    GTEST_SKIP() << "needs Redis 8.0 and Valkey 9.1 (" << testing::FetchedServerPath(fetched_redis)
                 << ", " << testing::FetchedServerPath(fetched_valkey)
                 << "): run scripts/fetch_servers.sh";
  }
  testing::RedisServerOptions valkey_options;
  valkey_options.binary = *valkey9;
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3, valkey_options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  testing::RedisServerOptions source_options;
  source_options.binary = *redis8;
  std::unique_ptr<testing::RedisServer> source = testing::StartServer(source_options);
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "k", "v"}).ok());
  absl::StatusOr<engine::RespValue> info = source_client.CheckedCommand({"INFO", "server"});
  ASSERT_TRUE(info.ok());
  std::string redis_version = info->str.substr(info->str.find("redis_version:") + 14);
  redis_version = redis_version.substr(0, redis_version.find_first_of("\r\n"));
  RedisClient node = testing::Connect(*cluster->masters[0]);
  info = node.CheckedCommand({"INFO", "server"});
  ASSERT_TRUE(info.ok());
  std::string valkey_version = info->str.substr(info->str.find("valkey_version:") + 15);
  valkey_version = valkey_version.substr(0, valkey_version.find_first_of("\r\n"));

  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(testing::MakeClusterTarget("vc", {cluster->masters[0]->address()}));
  engine::Job job("cross-engine", spec);
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_EQ(status.error.code(), absl::StatusCode::kFailedPrecondition) << status.error;
  EXPECT_EQ(
      status.error.message(),
      absl::StrCat("target 'vc' runs Valkey ", valkey_version,
                   " (RDB 80), which cannot load the snapshot of the source (Redis ", redis_version,
                   " (RDB 12), RDB 12): Redis 7.4 and later write RDB 12 and up, a format "
                   "Valkey refuses as foreign (rdb-version-check strict); use a Redis "
                   "target of the source's version or newer"));
  for (const auto& master : cluster->masters) {
    RedisClient client = testing::Connect(*master);
    EXPECT_EQ(client.CheckedCommand({"DBSIZE"})->integer, 0) << master->address();
  }
}

// Writes on the keys of one slot ({m}) until *stop: single-key writes and
// transactions, so that a migration of that slot meets both.
void WriteOneSlot(const testing::RedisServer* source, std::atomic<bool>* stop,
                  std::atomic<int>* rounds) {
  absl::StatusOr<RedisClient> client = source->Client();
  ASSERT_TRUE(client.ok()) << client.status();
  std::mt19937 random(7);
  while (!stop->load()) {
    std::vector<std::vector<std::string>> c;
    for (int i = 0; i < 10; ++i) {
      std::string k = absl::StrCat("{m}", random() % 300);
      c.push_back({"SET", k, std::to_string(random())});
      c.push_back({"MULTI"});
      c.push_back({"INCR", "{m}n"});
      c.push_back({"RPUSH", "{m}list", std::to_string(random() % 9)});
      c.push_back({"EXEC"});
    }
    absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(c);
    ASSERT_TRUE(replies.ok()) << replies.status();
    ++*rounds;
  }
}

// Whether `slot` is in "0-5460,6000" (a node's slot_ranges).
bool SlotInRanges(int slot, const std::string& ranges) {
  for (absl::string_view range : absl::StrSplit(ranges, ',')) {
    std::pair<absl::string_view, absl::string_view> ends = absl::StrSplit(range, '-');
    int begin = 0, end = 0;
    if (!absl::SimpleAtoi(ends.first, &begin)) continue;
    if (ends.second.empty()) {
      end = begin;
    } else if (!absl::SimpleAtoi(ends.second, &end)) {
      continue;
    }
    if (begin <= slot && slot <= end) return true;
  }
  return false;
}

std::string NodeId(RedisClient& client) {
  absl::StatusOr<engine::RespValue> id = client.CheckedCommand({"CLUSTER", "MYID"});
  return id.ok() ? id->str : "";
}

// Moves `slot` from `from` to `to` as redis-cli --cluster reshard does:
// IMPORTING, MIGRATING, MIGRATE of its keys in small batches, then NODE on
// every master.
void MigrateSlot(int slot, RedisClient& from, RedisClient& to, uint16_t to_port,
                 const std::vector<RedisClient*>& masters) {
  std::string s = std::to_string(slot);
  std::string from_id = NodeId(from), to_id = NodeId(to);
  ASSERT_TRUE(to.CheckedCommand({"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}).ok());
  ASSERT_TRUE(from.CheckedCommand({"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}).ok());
  for (;;) {
    absl::StatusOr<engine::RespValue> keys =
        from.CheckedCommand({"CLUSTER", "GETKEYSINSLOT", s, "10"});
    ASSERT_TRUE(keys.ok()) << keys.status();
    if (keys->elements.empty()) break;
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(to_port), "", "0",
                                        "5000",    "KEYS"};
    for (const auto& key : keys->elements) migrate.push_back(key.str);
    absl::StatusOr<engine::RespValue> moved = from.CheckedCommand(migrate);
    ASSERT_TRUE(moved.ok()) << moved.status();
    absl::SleepFor(absl::Milliseconds(20));  // writes meet the half-moved slot
  }
  for (RedisClient* master : masters) {
    ASSERT_TRUE(master->CheckedCommand({"CLUSTER", "SETSLOT", s, "NODE", to_id}).ok());
  }
}

TEST(ClusterTargetTest, SlotMigratedInsideTheClusterMidStreamStaysExact) {
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(testing::FillRichDataset(source_client, 500));
  std::vector<std::vector<std::string>> tagged;
  for (int i = 0; i < 300; ++i) tagged.push_back({"SET", absl::StrCat("{m}", i), "seed"});
  testing::RunWithoutErrors(source_client, tagged);

  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(testing::MakeClusterTarget("c", cluster->addresses()));
  engine::Job job("cluster-migration", spec);
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;

  auto [clients, masters] = testing::ConnectMasters(*cluster);
  const int slot = engine::KeyHashSlot("m");
  // The slot's owner, and another master to move it to.
  size_t from = 0;
  for (size_t i = 0; i < masters.size(); ++i) {
    absl::StatusOr<engine::RespValue> count =
        masters[i]->CheckedCommand({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)});
    ASSERT_TRUE(count.ok());
    if (count->integer > 0) from = i;
  }
  size_t to = (from + 1) % masters.size();

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteOneSlot, source.get(), &stop, &rounds);
  EXPECT_TRUE(RedisClient::WaitFor([&] { return rounds.load() > 5; }, absl::Seconds(30)).ok());
  MigrateSlot(slot, *masters[from], *masters[to], cluster->masters[to]->port(), masters);
  int after = rounds.load();
  EXPECT_TRUE(
      RedisClient::WaitFor([&] { return rounds.load() > after + 10; }, absl::Seconds(30)).ok());
  stop = true;
  writer.join();

  ASSERT_TRUE(source_client.CheckedCommand({"SET", "{m}marker", "1"}).ok());
  ASSERT_TRUE(masters[to]->WaitForKey("{m}marker", absl::Seconds(60), "marker").ok());
  auto every_key = engine::MakeKeyFilter({engine::FilterKind::kSlots, "0-16383"});
  ASSERT_TRUE(every_key.ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckClusterShards(source_client, **every_key, *cluster, masters);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  // The migration was met: the old owner answered MOVED (or ASK while it
  // was half-moved) and the applier followed; the slot is the new owner's.
  ASSERT_EQ(status.targets.size(), 1u);
  uint64_t redirects = 0;
  for (const engine::ClusterNodeStatus& node : status.targets[0].cluster_nodes) {
    if (node.address == cluster->masters[from]->address()) {
      EXPECT_GE(node.moved + node.ask, 1u) << node.address;
    }
    if (node.address == cluster->masters[to]->address()) {
      EXPECT_TRUE(SlotInRanges(slot, node.slot_ranges)) << node.slot_ranges;
    }
    redirects += node.moved + node.ask;
    EXPECT_EQ(node.last_error, "") << node.address;
  }
  EXPECT_GE(redirects, 1u);
}

// A job with a cluster target restored after a restart (in process: the job
// destroyed, then made again on its state dir, restored). The cluster target,
// whose masters' applied writes are not recorded, gets a full sync with the
// keys its filter selects deleted first: keys the source deleted while
// reshardd was down are gone, writes that would double are exact, and a key
// the filter leaves out stays untouched. With `backlog_too_small` the source
// cannot continue (its 16 KB backlog is overrun while reshardd is down): a
// full sync of every target; else the source goes on with PSYNC (+CONTINUE,
// no fork for the job) and the cluster target alone gets a sync of its own.
void RestoreAJobWithAClusterTarget(bool backlog_too_small) {
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  testing::RedisServerOptions source_options;
  if (backlog_too_small) source_options.extra_args = {"--repl-backlog-size", "16kb"};
  std::unique_ptr<testing::RedisServer> source = testing::StartServer(source_options);
  ASSERT_TRUE(source);
  RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(testing::FillRichDataset(source_client, 300));
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 100; ++i) {
    writes.push_back({"SET", absl::StrCat("gone:", i), "v"});
    writes.push_back({"INCR", absl::StrCat("count:", i % 10)});
  }
  testing::RunWithoutErrors(source_client, writes);
  auto [clients, masters] = testing::ConnectMasters(*cluster);
  // Not the job's: its filter leaves x: out.
  const size_t other_owner = testing::OwnerOf(masters, "x:other");
  ASSERT_TRUE(masters[other_owner]->CheckedCommand({"SET", "x:other", "kept"}).ok());

  testing::TempDir dir("cluster_restore");
  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      testing::MakeClusterTarget("c", cluster->addresses(), {engine::FilterKind::kRegex, "^[^x]"}));
  spec.options.state_dir = dir / "job.state";
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok()) << engine::ValidateJobSpec(spec);
  auto job = std::make_unique<engine::Job>("cluster-restore", spec);
  job->Start();
  engine::JobStatus status = testing::WaitForState(*job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "marker", "1"}).ok());
  ASSERT_TRUE(masters[testing::OwnerOf(masters, "marker")]
                  ->WaitForKey("marker", absl::Seconds(60), "marker")
                  .ok());
  job.reset();  // reshardd stops

  // While it is down: deletes, and writes that would double if applied twice.
  writes.clear();
  const std::string value(backlog_too_small ? 1000 : 1, 'v');  // 100 KB: past a 16 KB backlog
  for (int i = 0; i < 100; ++i) {
    writes.push_back({"DEL", absl::StrCat("gone:", i)});
    writes.push_back({"INCR", absl::StrCat("count:", i % 10)});
    writes.push_back({"SET", absl::StrCat("new:", i), value});
  }
  testing::RunWithoutErrors(source_client, writes);

  spec.options.restored = true;
  job = std::make_unique<engine::Job>("cluster-restore", spec);
  job->Start();
  status = testing::WaitForState(*job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
  if (backlog_too_small) {
    EXPECT_TRUE(
        absl::StartsWith(status.restore_detail, "full sync of every target after a restart: "))
        << status.restore_detail;
  } else {
    EXPECT_TRUE(absl::StrContains(status.restore_detail, "(PSYNC +CONTINUE, no fork)"))
        << status.restore_detail;
    EXPECT_TRUE(absl::StrContains(status.restore_detail, "'c' (a cluster) is synced in full"))
        << status.restore_detail;
  }
  // Writes after the restart go on through the stream.
  ASSERT_TRUE(source_client.CheckedCommand({"INCR", "count:0"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "marker2", "1"}).ok());
  ASSERT_TRUE(masters[testing::OwnerOf(masters, "marker2")]
                  ->WaitForKey("marker2", absl::Seconds(60), "marker2")
                  .ok());

  absl::StatusOr<engine::RespValue> other =
      masters[other_owner]->CheckedCommand({"GET", "x:other"});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->str, "kept");
  ASSERT_TRUE(masters[other_owner]->CheckedCommand({"DEL", "x:other"}).ok());
  auto filter = engine::MakeKeyFilter(spec.targets[0].filter);
  ASSERT_TRUE(filter.ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckClusterShards(source_client, **filter, *cluster, masters);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  absl::StatusOr<engine::RespValue> count = source_client.CheckedCommand({"GET", "count:0"});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->str, "21");  // 10 + 10 + 1: what the check compared
  status = job->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming);
  ASSERT_EQ(status.targets.size(), 1u);
  // The job's own snapshot, or one of the target's own.
  EXPECT_EQ(status.targets[0].resyncs, backlog_too_small ? 0u : 1u);
}

TEST(ClusterTargetTest, ARestoredJobSyncsItsClusterTargetInFullExactly) {
  RestoreAJobWithAClusterTarget(/*backlog_too_small=*/false);
}

TEST(ClusterTargetTest, ARestoredJobWhoseSourceCannotContinueSyncsTheClusterExactly) {
  RestoreAJobWithAClusterTarget(/*backlog_too_small=*/true);
}

std::string DescribeProblems(const engine::VerifyReport& report) {
  std::string text = absl::StrCat(report.problem_count(), " problems, ", report.unsettled,
                                  " unsettled, error '", report.error, "':");
  for (const engine::VerifyProblem& p : report.problems) {
    absl::StrAppend(&text, "\n  db", p.db, " ", p.key, " ",
                    std::string(engine::VerifyProblemKindName(p.kind)), ": ", p.detail);
  }
  return text;
}

// A job streaming from a source with the rich dataset (and a key of db 1
// that its filter leaves out) into a 3-master cluster; the cluster's
// clients, one per master.
class ClusterJobTest : public ::testing::Test {
 protected:
  void StartStreamingJob(const std::string& id, int keys) {
    absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    source_ = testing::StartServer();
    ASSERT_TRUE(source_);
    source_client_.emplace(testing::Connect(*source_));
    ASSERT_NO_FATAL_FAILURE(testing::FillRichDataset(*source_client_, keys));
    testing::RunWithoutErrors(
        *source_client_,
        {{"SET", "x:left-out", "1"}, {"SELECT", "1"}, {"SET", "x:db1", "1"}, {"SELECT", "0"}});
    spec_.source.address = source_->address();
    spec_.targets.push_back(testing::MakeClusterTarget("c", {cluster_.masters[0]->address()},
                                                       {engine::FilterKind::kRegex, "^[^x]"}));
    ASSERT_TRUE(engine::ValidateJobSpec(spec_).ok()) << engine::ValidateJobSpec(spec_);
    job_ = std::make_unique<engine::Job>(id, spec_);
    job_->Start();
    engine::JobStatus status =
        testing::WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
    ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;
    for (const auto& master : cluster_.masters) clients_.push_back(testing::Connect(*master));
    for (RedisClient& client : clients_) masters_.push_back(&client);
  }

  engine::VerifyReport Verify() {
    engine::VerifyOptions options;
    options.rate_keys_per_second = 0;
    engine::Job* job = job_.get();
    options.applied_offsets = [job] { return engine::AppliedSourceOffsets(job->Snapshot()); };
    absl::StatusOr<engine::VerifyReport> report = engine::VerifyJobData(spec_, options);
    EXPECT_TRUE(report.ok()) << report.status();
    if (!report.ok()) return {};
    EXPECT_EQ(report->state, engine::VerifyState::kDone) << report->error;
    return *report;
  }

  testing::TestCluster cluster_;
  std::unique_ptr<testing::RedisServer> source_;
  std::optional<RedisClient> source_client_;
  engine::JobSpec spec_;
  std::unique_ptr<engine::Job> job_;
  std::vector<RedisClient> clients_;
  std::vector<RedisClient*> masters_;
};

TEST_F(ClusterJobTest, VerifyReadsEachKeyOnItsMasterAndReportsExactlyTheDamage) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob("cluster-verify", 700));
  // Everything applied: a marker of the stream is on the cluster.
  ASSERT_TRUE(source_client_->CheckedCommand({"SET", "marker", "1"}).ok());
  ASSERT_TRUE(masters_[testing::OwnerOf(masters_, "marker")]
                  ->WaitForKey("marker", absl::Seconds(60), "marker")
                  .ok());
  absl::StatusOr<engine::RespValue> dbsize = source_client_->CheckedCommand({"DBSIZE"});
  ASSERT_TRUE(dbsize.ok()) << dbsize.status();
  const uint64_t selected = dbsize->integer - 1;  // all of db 0 but x:left-out

  engine::VerifyReport clean = Verify();
  EXPECT_EQ(clean.problem_count(), 0u) << DescribeProblems(clean);
  EXPECT_EQ(clean.unsettled, 0u);
  EXPECT_EQ(clean.keys_checked, selected + 2);     // every source key (x:left-out, x:db1 too)
  EXPECT_EQ(clean.target_keys_checked, selected);  // over the 3 masters
  ASSERT_EQ(clean.precheck.size(), 2u);            // db 0 and the source's db 1
  EXPECT_EQ(clean.precheck[0].expected, std::vector<uint64_t>{selected});
  EXPECT_EQ(clean.precheck[0].target_keys, std::vector<uint64_t>{selected});  // DBSIZE summed
  EXPECT_EQ(clean.precheck[1].expected, std::vector<uint64_t>{0});
  EXPECT_EQ(clean.precheck[1].target_keys, std::vector<uint64_t>{0});

  // Damage on the cluster's nodes, each on the master owning the key.
  struct Damage {
    std::string key;
    std::vector<std::string> command;
  };
  const std::vector<Damage> damage = {
      {"k5", {"DEL", "k5"}},
      {"k12", {"SET", "k12", "changed"}},
      {"k19", {"PEXPIRE", "k19", "600000"}},
      {"stray:1", {"SET", "stray:1", "x"}},
      {"x:stray", {"SET", "x:stray", "x"}},
  };
  std::map<std::string, std::string> node_of;
  for (const Damage& d : damage) {
    size_t owner = testing::OwnerOf(masters_, d.key);
    node_of[d.key] = cluster_.masters[owner]->address();
    ASSERT_TRUE(masters_[owner]->CheckedCommand(d.command).ok()) << d.key;
  }
  engine::VerifyReport damaged = Verify();
  EXPECT_EQ(damaged.missing, 1u) << DescribeProblems(damaged);
  EXPECT_EQ(damaged.stray, 2u) << DescribeProblems(damaged);
  EXPECT_EQ(damaged.different, 2u) << DescribeProblems(damaged);
  EXPECT_EQ(damaged.unsettled, 0u);
  ASSERT_EQ(damaged.problems.size(), 5u) << DescribeProblems(damaged);
  auto find = [&](const std::string& key) -> const engine::VerifyProblem* {
    for (const engine::VerifyProblem& p : damaged.problems) {
      if (p.key == key) return &p;
    }
    ADD_FAILURE() << key << " not reported: " << DescribeProblems(damaged);
    return nullptr;
  };
  auto node = [&](const std::string& key) { return absl::StrCat(" (node ", node_of[key], ")"); };
  const engine::VerifyProblem* p = find("k5");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->kind, engine::VerifyProblemKind::kMissing);
  EXPECT_EQ(p->detail, "not on the target" + node("k5"));
  ASSERT_NE(p = find("k12"), nullptr);
  EXPECT_EQ(p->kind, engine::VerifyProblemKind::kDifferentValue);
  EXPECT_TRUE(absl::StartsWith(p->detail, "value: string differs")) << p->detail;
  EXPECT_TRUE(absl::EndsWith(p->detail, node("k12"))) << p->detail;
  ASSERT_NE(p = find("k19"), nullptr);
  EXPECT_EQ(p->kind, engine::VerifyProblemKind::kDifferentTtl);
  EXPECT_TRUE(absl::StartsWith(p->detail, "ttl: source none, target 59")) << p->detail;
  EXPECT_TRUE(absl::EndsWith(p->detail, node("k19"))) << p->detail;
  ASSERT_NE(p = find("stray:1"), nullptr);
  EXPECT_EQ(p->kind, engine::VerifyProblemKind::kStray);
  EXPECT_EQ(p->detail, "not on the source" + node("stray:1"));
  ASSERT_NE(p = find("x:stray"), nullptr);
  EXPECT_EQ(p->kind, engine::VerifyProblemKind::kStray);
  EXPECT_EQ(p->detail, "not selected by the target's filter regex:^[^x]" + node("x:stray"));
  for (const engine::VerifyProblem& problem : damaged.problems) {
    EXPECT_EQ(problem.db, 0);
    EXPECT_EQ(problem.target, "c");
  }
  // The summed DBSIZE moved by the damage: -1 (k5) +2 (the strays).
  EXPECT_EQ(damaged.precheck[0].target_keys, std::vector<uint64_t>{selected + 1});
}

// A slot moving inside the cluster while verifications run: half moved (its
// old owner answers ASK for the keys it no longer holds), then moved for
// good during a run (MOVED to a verification whose slot map is stale).
// Every key is read where the cluster sends clients: no problem but the one
// made on purpose, named on the node where a client finds the slot's keys.
TEST_F(ClusterJobTest, VerifyFollowsASlotMovingWhileItRuns) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob("cluster-verify-moving", 300));
  std::vector<std::vector<std::string>> tagged;
  for (int i = 0; i < 200; ++i) tagged.push_back({"SET", absl::StrCat("{m}", i), "v"});
  tagged.push_back({"SET", "{m}marker", "1"});
  testing::RunWithoutErrors(*source_client_, tagged);
  const size_t from = testing::OwnerOf(masters_, "{m}marker");
  ASSERT_TRUE(masters_[from]->WaitForKey("{m}marker", absl::Seconds(60), "marker").ok());
  const size_t to = (from + 1) % masters_.size();
  const std::string to_address = cluster_.masters[to]->address();
  const std::string slot = std::to_string(engine::KeyHashSlot("m"));
  absl::StatusOr<engine::RespValue> dbsize = source_client_->CheckedCommand({"DBSIZE"});
  ASSERT_TRUE(dbsize.ok()) << dbsize.status();
  const uint64_t selected = dbsize->integer - 1;  // all of db 0 but x:left-out

  // Half moved: IMPORTING on `to`, MIGRATING on `from`, {m}0-99 migrated;
  // then one of them deleted where it now is (ASKING: `to` imports it).
  std::string from_id = NodeId(*masters_[from]), to_id = NodeId(*masters_[to]);
  ASSERT_TRUE(
      masters_[to]->CheckedCommand({"CLUSTER", "SETSLOT", slot, "IMPORTING", from_id}).ok());
  ASSERT_TRUE(
      masters_[from]->CheckedCommand({"CLUSTER", "SETSLOT", slot, "MIGRATING", to_id}).ok());
  auto migrate = [&](int first, int end, bool marker) {
    std::vector<std::string> command = {
        "MIGRATE", "127.0.0.1", std::to_string(cluster_.masters[to]->port()), "", "0",
        "5000",    "KEYS"};
    for (int i = first; i < end; ++i) command.push_back(absl::StrCat("{m}", i));
    if (marker) command.push_back("{m}marker");
    absl::StatusOr<engine::RespValue> moved = masters_[from]->CheckedCommand(command);
    EXPECT_TRUE(moved.ok()) << moved.status();
  };
  migrate(0, 100, false);
  ASSERT_TRUE(masters_[to]->CheckedCommand({"ASKING"}).ok());
  absl::StatusOr<engine::RespValue> deleted = masters_[to]->CheckedCommand({"DEL", "{m}7"});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_EQ(deleted->integer, 1);

  // `moving`: keys that moved from master to master while the target pass
  // SCANned them (each SCAN may see one before it leaves or after it came,
  // both, or neither).
  auto expect_only_the_damage = [&](const engine::VerifyReport& report, uint64_t moving) {
    EXPECT_EQ(report.keys_checked, selected + 2);  // x:left-out, x:db1 too
    EXPECT_GE(report.target_keys_checked, selected - 1 - moving);
    EXPECT_LE(report.target_keys_checked, selected - 1 + moving);
    EXPECT_EQ(report.unsettled, 0u);
    ASSERT_EQ(report.problems.size(), 1u) << DescribeProblems(report);
    EXPECT_EQ(report.problems[0].key, "{m}7");
    EXPECT_EQ(report.problems[0].kind, engine::VerifyProblemKind::kMissing);
    EXPECT_EQ(report.problems[0].detail, absl::StrCat("not on the target (node ", to_address, ")"));
  };
  engine::VerifyReport half = Verify();
  expect_only_the_damage(half, 0);

  // Moved for good once the source pass has compared its first keys: the
  // run's map still gives the slot to `from`, which answers MOVED.
  engine::VerifyOptions options;
  options.rate_keys_per_second = 0;
  options.scan_count = 50;
  options.progress_interval = absl::ZeroDuration();
  engine::Job* job = job_.get();
  options.applied_offsets = [job] { return engine::AppliedSourceOffsets(job->Snapshot()); };
  bool moved = false;
  uint64_t checked_before_the_move = 0;
  options.on_progress = [&](const engine::VerifyReport& report) {
    if (moved || report.keys_checked == 0) return;
    moved = true;
    checked_before_the_move = report.keys_checked;
    migrate(100, 200, true);
    for (RedisClient* master : masters_) {
      EXPECT_TRUE(master->CheckedCommand({"CLUSTER", "SETSLOT", slot, "NODE", to_id}).ok());
    }
  };
  absl::StatusOr<engine::VerifyReport> during = engine::VerifyJobData(spec_, options);
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->state, engine::VerifyState::kDone) << during->error;
  EXPECT_TRUE(moved);
  EXPECT_LT(checked_before_the_move, selected / 2);
  expect_only_the_damage(*during, 101);
  EXPECT_EQ(job_->Snapshot().state, JobState::kStreaming);
}

TEST_F(ClusterJobTest, CutoverUnderWritesDrainsEveryMasterThenVerifiesClean) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob("cluster-cutover", 500));
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteClusterTraffic, source_.get(), &stop, &rounds);
  EXPECT_TRUE(RedisClient::WaitFor([&] { return rounds.load() > 20; }, absl::Seconds(30)).ok());

  // Left paused, as for a switch of the clients: what the test compares is
  // what the cluster got. A wide bound: the machine is shared.
  engine::CutoverOptions options;
  options.max_write_pause = absl::Seconds(20);
  options.lag_threshold_bytes = 256 << 10;
  options.promote = true;  // accepted: the cluster's nodes are masters already
  options.leave_source_paused = true;
  ASSERT_TRUE(job_->Cutover(options).ok());
  engine::JobStatus status = job_->Snapshot();
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!(status.cutover.has_value() && status.cutover->state != engine::CutoverState::kRunning) &&
         absl::Now() < deadline) {
    status = job_->WaitForChange(status.version, absl::Milliseconds(100));
  }
  ASSERT_TRUE(status.cutover.has_value());
  const engine::CutoverReport& report = *status.cutover;
  ASSERT_EQ(report.state, engine::CutoverState::kDone) << report.error;
  EXPECT_EQ(testing::WaitForState(*job_, JobState::kDone, absl::Seconds(30)).state,
            JobState::kDone);
  ASSERT_EQ(report.steps.size(), 5u);
  EXPECT_TRUE(absl::StartsWith(report.steps[2], absl::StrCat("3 drain: every target applied "
                                                             "source offset ",
                                                             report.final_offset)))
      << report.steps[2];
  EXPECT_EQ(report.steps[3],
            "4 promote: REPLICAOF NO ONE, role:master on no managed target; cluster targets "
            "(their masters take writes already): 'c'");
  ASSERT_EQ(report.targets.size(), 1u);
  const engine::CutoverTargetReport& c = report.targets[0];
  EXPECT_TRUE(c.cluster);
  EXPECT_FALSE(c.managed);
  EXPECT_FALSE(c.promoted);
  EXPECT_GE(c.source_acked_offset, report.final_offset);
  uint64_t dbsize = 0;
  for (RedisClient* master : masters_) {
    absl::StatusOr<engine::RespValue> keys = master->CheckedCommand({"DBSIZE"});
    ASSERT_TRUE(keys.ok()) << keys.status();
    dbsize += keys->integer;
  }
  EXPECT_EQ(c.keys, dbsize);
  EXPECT_EQ(c.db_keys, (std::vector<std::pair<int, uint64_t>>{{0, dbsize}}));

  // Every key of the source (that the filter selects) on the master owning
  // its slot, nothing else; and a full verification finds nothing.
  auto filter = engine::MakeKeyFilter(spec_.targets[0].filter);
  ASSERT_TRUE(filter.ok());
  absl::StatusOr<testing::ShardCheckReport> check =
      testing::CheckClusterShards(*source_client_, **filter, cluster_, masters_);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->ok()) << check->Summary();
  engine::VerifyReport verified = Verify();
  EXPECT_EQ(verified.problem_count(), 0u) << DescribeProblems(verified);
  EXPECT_EQ(verified.unsettled, 0u);

  ASSERT_TRUE(source_client_->CheckedCommand({"CLIENT", "UNPAUSE"}).ok());
  stop = true;
  writer.join();
}

}  // namespace
}  // namespace reshard::integration
