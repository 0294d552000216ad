// A Redis Cluster as a target (issue 13): a real 3-master cluster started by
// each test, a source with every data type (TTLs, big values, streams with
// consumer groups) in db 0, and writes before, during and after the
// snapshot: single-key writes, MSET and DEL across slots (split per slot),
// transactions on one slot and across slots. Then every key of the source
// is on the master that owns its slot with the same value and expiry, and
// no master holds anything else. A write a cluster cannot apply (RENAME of
// keys in two slots) then fails the job, naming the command and its offset.
// A slot migrated inside the cluster (IMPORTING/MIGRATING, MIGRATE, NODE)
// while its keys are written: MOVED and ASK followed, still exact.
//
// Servers: "redis-server" and "redis-cli" on PATH (Debian's Redis 7.0).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "tests/support/cluster_shard_check.h"
#include "tests/support/job_waiter.h"
#include "tests/support/redis_client.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using engine::JobState;
using testing::RedisClient;

// Every type, in compact and large encodings, some with expiries.
void FillRichDataset(RedisClient& client, int n) {
  std::vector<std::vector<std::string>> c;
  for (int i = 0; i < n; ++i) {
    std::string k = absl::StrCat("k", i);
    switch (i % 7) {
      case 0:
        c.push_back({"SET", k + ":s", absl::StrCat("value-", i)});
        if (i % 3 == 0) c.push_back({"PEXPIRE", k + ":s", "3600000"});
        break;
      case 1:
        c.push_back({"RPUSH", k + ":l", "a", "b", std::to_string(i)});
        break;
      case 2:
        c.push_back({"HSET", "{h}" + k, "f", "v", "g", std::to_string(i)});
        break;
      case 3:
        c.push_back({"SADD", k + ":set", "x", "y", std::to_string(i)});
        c.push_back({"EXPIRE", k + ":set", "7200"});
        break;
      case 4:
        c.push_back({"ZADD", k + ":z", "1", "a", "2.5", std::to_string(i)});
        break;
      case 5:
        c.push_back({"SET", k, std::to_string(i)});  // integer-encoded
        break;
      case 6:
        c.push_back({"XADD", k + ":x", "*", "f", std::to_string(i)});
        break;
    }
  }
  for (int j = 0; j < 300; ++j) {
    std::string m = std::to_string(j);
    c.push_back({"SADD", "bigset", m + "member"});
    c.push_back({"HSET", "bighash", "field" + m, std::string(100, 'h')});
    c.push_back({"ZADD", "bigzset", m, "member" + m});
    c.push_back({"RPUSH", "biglist", std::string(200, 'l') + m});
    c.push_back({"XADD", "bigstream", absl::StrCat(j + 1, "-1"), "n", m});
  }
  c.push_back({"XGROUP", "CREATE", "bigstream", "g1", "0"});
  c.push_back({"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "bigstream", ">"});
  c.push_back({"SET", "big", std::string(2 << 20, 'b')});
  c.push_back({"SET", "expiring", "soon", "PX", "600000"});
  testing::RunWithoutErrors(client, c);
}

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
  ASSERT_NO_FATAL_FAILURE(FillRichDataset(source_client, 3000));

  engine::JobSpec spec;
  spec.source.address = source->address();
  engine::TargetSpec target;
  target.name = "c";
  target.cluster.emplace();
  target.cluster->nodes = {cluster->masters[1]->address()};
  spec.targets.push_back(target);
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

  std::vector<RedisClient> clients;
  for (const auto& master : cluster->masters) clients.push_back(testing::Connect(*master));
  std::vector<RedisClient*> masters;
  for (RedisClient& client : clients) masters.push_back(&client);
  // A marker in every master's slots proves the stream before it is applied.
  for (int i = 0; i < 3; ++i) {
    std::string marker = absl::StrCat("marker", i);
    ASSERT_TRUE(source_client.CheckedCommand({"SET", marker, "1"}).ok());
    absl::Status arrived = RedisClient::WaitFor(
        [&] {
          for (RedisClient* master : masters) {
            absl::StatusOr<engine::RespValue> exists = master->Command({"EXISTS", marker});
            if (exists.ok() && exists->integer == 1) return true;
          }
          return false;
        },
        absl::Seconds(60), marker);
    ASSERT_TRUE(arrived.ok()) << arrived;
  }
  auto every_key = engine::MakeKeyFilter({engine::FilterKind::kSlots, "0-16383"});
  ASSERT_TRUE(every_key.ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckClusterShards(source_client, **every_key, *cluster, masters);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_GT(report->source_keys, 3000u);
  for (size_t n : report->keys_per_target) EXPECT_GT(n, 500u) << report->Summary();

  // The target's status: streaming, its ACK at its offset.
  status = job.Snapshot();
  ASSERT_EQ(status.targets.size(), 1u);
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;

  // A write a cluster cannot apply: the job fails, naming it.
  ASSERT_NE(engine::KeyHashSlot("rename:a"), engine::KeyHashSlot("rename:b"));
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "rename:a", "1"}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"RENAME", "rename:a", "rename:b"}).ok());
  status = testing::WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_NE(status.error.message().find("RENAME at stream offset "), std::string::npos)
      << status.error;
  EXPECT_NE(status.error.message().find(absl::StrCat("writes keys of slots ",
                                                     engine::KeyHashSlot("rename:a"), " and ",
                                                     engine::KeyHashSlot("rename:b"))),
            std::string::npos)
      << status.error;
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
  ASSERT_NO_FATAL_FAILURE(FillRichDataset(source_client, 500));
  std::vector<std::vector<std::string>> tagged;
  for (int i = 0; i < 300; ++i) tagged.push_back({"SET", absl::StrCat("{m}", i), "seed"});
  testing::RunWithoutErrors(source_client, tagged);

  engine::JobSpec spec;
  spec.source.address = source->address();
  engine::TargetSpec target;
  target.name = "c";
  target.cluster.emplace();
  target.cluster->nodes = cluster->addresses();
  spec.targets.push_back(target);
  engine::Job job("cluster-migration", spec);
  job.Start();
  engine::JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.detail << " " << status.error;

  std::vector<RedisClient> clients;
  for (const auto& master : cluster->masters) clients.push_back(testing::Connect(*master));
  std::vector<RedisClient*> masters;
  for (RedisClient& client : clients) masters.push_back(&client);
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
}

}  // namespace
}  // namespace reshard::integration
