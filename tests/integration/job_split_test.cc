// End to end through the engine: a real source redis-server, a Job, and real
// target redis-servers replicating from the job's listeners. Writes go on
// before, during and after the snapshot; then every key must be on exactly
// the right target with the same value and expiry.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/job.h"
#include "engine/key_filter.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/shard_check.h"

namespace reshard {
namespace {

using engine::FilterKind;
using engine::FilterSpec;
using engine::Job;
using engine::JobSpec;
using engine::JobState;
using engine::JobStatus;
using engine::TargetSpec;
using testing::CheckShards;
using testing::RedisClient;
using testing::RedisServer;
using testing::ShardCheckTarget;

std::unique_ptr<RedisServer> StartServer() {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

RedisClient Connect(const RedisServer& server) {
  absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", server.port());
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(*client);
}

JobStatus WaitForState(const Job& job, JobState state, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  JobStatus status = job.Snapshot();
  while (status.state != state && absl::Now() < deadline) {
    if (status.state == JobState::kFailed || status.state == JobState::kCancelled) break;
    status = job.WaitForChange(status.version, absl::Milliseconds(200));
  }
  return status;
}

// Mixed data in dbs 0 and 1: every basic type, compact and large encodings,
// some keys with expiries. Key names start with a digit.
void FillNumericDataset(RedisClient& client, int n) {
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < n; ++i) {
    std::string k = absl::StrCat(i % 10, ":", i);
    if (i == n / 2) commands.push_back({"SELECT", "1"});
    switch (i % 6) {
      case 0:
        commands.push_back({"SET", k + ":s", absl::StrCat("v", i)});
        if (i % 4 == 0) commands.push_back({"PEXPIRE", k + ":s", "3600000"});
        break;
      case 1:
        commands.push_back({"RPUSH", k + ":l", "a", "b", std::to_string(i)});
        break;
      case 2:
        commands.push_back({"HSET", k + ":h", "f", "v", "g", std::to_string(i)});
        break;
      case 3:
        commands.push_back({"SADD", k + ":set", "x", "y", std::to_string(i)});
        break;
      case 4:
        commands.push_back({"ZADD", k + ":z", "1", "a", "2.5", std::to_string(i)});
        commands.push_back({"EXPIRE", k + ":z", "7200"});
        break;
      case 5:
        commands.push_back({"SET", k, std::to_string(i)});  // integer-encoded value
        break;
    }
  }
  // A few large encodings (hash table, skiplist, quicklist with many nodes).
  commands.push_back({"SELECT", "0"});
  for (int j = 0; j < 300; ++j) {
    std::string m = std::to_string(j);
    commands.push_back({"SADD", "3:bigset", m + "member"});
    commands.push_back({"HSET", "8:bighash", "field" + m, std::string(100, 'h')});
    commands.push_back({"ZADD", "4:bigzset", m, "member" + m});
    commands.push_back({"RPUSH", "9:biglist", std::string(200, 'l') + m});
  }
  commands.push_back({"SET", "6:big", std::string(3 << 20, 'b')});
  absl::StatusOr<std::vector<engine::RespValue>> replies = client.Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  for (const auto& reply : *replies) ASSERT_FALSE(reply.IsError()) << reply.ToString();
}

// Writes numeric-key traffic (sets, deletes, expiries, MSET across both halves,
// transactions, two dbs) until `stop`.
void WriteTraffic(uint16_t port, std::atomic<bool>* stop, std::atomic<int>* rounds) {
  absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int r = 0; !stop->load(); ++r) {
    std::vector<std::vector<std::string>> commands;
    for (int j = 0; j < 50; ++j) {
      int i = (r * 131 + j * 7919) % 4000;
      std::string k = absl::StrCat(i % 10, ":", i);
      commands.push_back({"SELECT", std::to_string(j % 2)});
      commands.push_back({"SET", k + ":live", absl::StrCat("r", r)});
      commands.push_back({"INCR", absl::StrCat(i % 10, ":counter")});
      if (j % 5 == 0) commands.push_back({"DEL", k + ":s", absl::StrCat((i + 5) % 10, ":x")});
      if (j % 7 == 0) {
        commands.push_back(
            {"MSET", absl::StrCat(i % 10, ":m", j), "x", absl::StrCat((i + 5) % 10, ":m", j), "y"});
      }
      if (j % 9 == 0) commands.push_back({"SET", k + ":ttl", "t", "EX", "600"});
      if (j % 11 == 0) commands.push_back({"LPUSH", k + ":l", absl::StrCat("r", r)});
      if (j % 13 == 0) {
        commands.push_back({"MULTI"});
        commands.push_back({"HSET", k + ":h", "tx", std::to_string(r)});
        commands.push_back({"SADD", absl::StrCat((i + 5) % 10, ":txset"), std::to_string(r)});
        commands.push_back({"EXEC"});
      }
    }
    absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(commands);
    ASSERT_TRUE(replies.ok()) << replies.status();
    rounds->fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Sets a marker key per target on the source and waits until each target has
// it: everything written before is then applied on the targets.
void WaitForMarkers(RedisClient& source, std::vector<RedisClient*> targets,
                    const std::vector<std::string>& markers) {
  ASSERT_TRUE(source.CheckedCommand({"SELECT", "0"}).ok());
  for (const std::string& marker : markers) {
    ASSERT_TRUE(source.CheckedCommand({"SET", marker, "1"}).ok());
  }
  for (size_t t = 0; t < targets.size(); ++t) {
    RedisClient* target = targets[t];
    ASSERT_TRUE(target->CheckedCommand({"SELECT", "0"}).ok());
    absl::Status status = RedisClient::WaitFor(
        [&] {
          absl::StatusOr<engine::RespValue> v = target->Command({"EXISTS", markers[t]});
          return v.ok() && v->integer == 1;
        },
        absl::Seconds(60), absl::StrCat("marker ", markers[t]));
    ASSERT_TRUE(status.ok()) << status;
  }
}

TargetSpec MakeTarget(std::string name, FilterKind kind, std::string pattern, uint16_t listen_port,
                      const RedisServer* managed) {
  TargetSpec target;
  target.name = std::move(name);
  target.filter = FilterSpec{kind, std::move(pattern)};
  target.listen = absl::StrCat("127.0.0.1:", listen_port);
  if (managed != nullptr) target.replica = engine::Endpoint{managed->address(), {}};
  return target;
}

TEST(JobSplitTest, RegexHalvesWithWritesDuringAndAfterTheSync) {
  auto source = StartServer();
  auto target_a = StartServer();
  auto target_b = StartServer();
  ASSERT_TRUE(source && target_a && target_b);
  RedisClient source_client = Connect(*source);
  FillNumericDataset(source_client, 20000);
  // Slow the snapshot down so that traffic certainly lands during it.
  ASSERT_TRUE(source_client.CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "50"}).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, source->port(), &stop, &rounds);

  JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kRegex, "^[0-4]", testing::PickFreePort(), target_a.get()));
  spec.targets.push_back(
      MakeTarget("b", FilterKind::kRegex, "^[5-9]", testing::PickFreePort(), target_b.get()));
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok());
  Job job("split", spec);
  job.Start();

  JobStatus status = WaitForState(job, JobState::kSyncing, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kSyncing) << status.error << " " << status.detail;
  int rounds_at_sync_start = rounds.load();
  status = WaitForState(job, JobState::kStreaming, absl::Seconds(120));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  EXPECT_GT(rounds.load(), rounds_at_sync_start) << "no writes landed during the snapshot";
  EXPECT_GT(status.rdb_keys_read, 20000u);
  EXPECT_EQ(status.targets[0].rdb_keys_kept + status.targets[1].rdb_keys_kept,
            status.rdb_keys_read);
  ASSERT_TRUE(source_client.CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "0"}).ok());

  // Keep writing while streaming, then stop and let the targets catch up.
  int rounds_at_stream_start = rounds.load();
  ASSERT_TRUE(RedisClient::WaitFor([&] { return rounds.load() > rounds_at_stream_start + 20; },
                                   absl::Seconds(30))
                  .ok());
  stop = true;
  writer.join();
  RedisClient a = Connect(*target_a);
  RedisClient b = Connect(*target_b);
  WaitForMarkers(source_client, {&a, &b}, {"0:marker", "5:marker"});

  auto filter_a = engine::MakeKeyFilter(spec.targets[0].filter);
  auto filter_b = engine::MakeKeyFilter(spec.targets[1].filter);
  ASSERT_TRUE(filter_a.ok() && filter_b.ok());
  absl::StatusOr<testing::ShardCheckReport> report = CheckShards(
      source_client, {{"a", filter_a->get(), &a}, {"b", filter_b->get(), &b}}, /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_GT(report->keys_per_target[0], 8000u);
  EXPECT_GT(report->keys_per_target[1], 8000u);
  EXPECT_EQ(report->keys_per_target[0] + report->keys_per_target[1], report->source_keys);

  // One upstream sync fed both targets: the source forked once.
  absl::StatusOr<std::string> full_syncs = source_client.InfoField("stats", "sync_full");
  ASSERT_TRUE(full_syncs.ok()) << full_syncs.status();
  EXPECT_EQ(*full_syncs, "1");
  // WAIT makes the source send REPLCONF GETACK; it returns 1 only if reshardd
  // answers with an offset that covers the write before it.
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "1:waited", "x"}).ok());
  absl::StatusOr<engine::RespValue> waited = source_client.CheckedCommand({"WAIT", "1", "5000"});
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(waited->integer, 1);

  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming);
  EXPECT_GT(status.targets[0].commands_kept, 0u);
  EXPECT_GT(status.targets[0].commands_split, 0u);  // MSET / DEL across both halves
  EXPECT_EQ(status.targets[0].connected_replicas, 1u);
  job.Cancel();
  EXPECT_EQ(WaitForState(job, JobState::kCancelled, absl::Seconds(10)).state, JobState::kCancelled);
}

TEST(JobSplitTest, PrefixSplitOfStringKeysWithUnmanagedTargets) {
  auto source = StartServer();
  auto target_users = StartServer();
  auto target_orders = StartServer();
  ASSERT_TRUE(source && target_users && target_orders);
  RedisClient source_client = Connect(*source);
  std::vector<std::vector<std::string>> fill;
  for (int i = 0; i < 3000; ++i) {
    fill.push_back({"SET", absl::StrCat("user:", i), absl::StrCat("u", i)});
    fill.push_back({"SET", absl::StrCat("order:", i), absl::StrCat("o", i), "PX", "86400000"});
    fill.push_back({"SET", absl::StrCat("session:", i), "dropped everywhere"});
  }
  ASSERT_TRUE(source_client.Pipeline(fill).ok());

  JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      MakeTarget("users", FilterKind::kPrefix, "user:", testing::PickFreePort(), nullptr));
  spec.targets.push_back(
      MakeTarget("orders", FilterKind::kPrefix, "order:", testing::PickFreePort(), nullptr));
  Job job("prefix", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kConnecting, absl::Seconds(10));
  ASSERT_EQ(status.state, JobState::kConnecting);

  // The operator points each target at its listener.
  RedisClient users = Connect(*target_users);
  RedisClient orders = Connect(*target_orders);
  for (size_t t = 0; t < 2; ++t) {
    RedisClient& client = t == 0 ? users : orders;
    std::string port = spec.targets[t].listen.substr(spec.targets[t].listen.find(':') + 1);
    ASSERT_TRUE(client.CheckedCommand({"REPLICAOF", "127.0.0.1", port}).ok());
  }
  status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  EXPECT_EQ(status.targets[0].rdb_keys_kept, 3000u);
  EXPECT_EQ(status.targets[0].rdb_keys_dropped, 6000u);

  std::vector<std::vector<std::string>> live;
  for (int i = 0; i < 500; ++i) {
    live.push_back({"APPEND", absl::StrCat("user:", i), "+"});
    live.push_back({"DEL", absl::StrCat("order:", i), absl::StrCat("user:", i + 1000)});
    live.push_back({"SET", absl::StrCat("session:", i), "x"});
  }
  ASSERT_TRUE(source_client.Pipeline(live).ok());
  WaitForMarkers(source_client, {&users, &orders}, {"user:marker", "order:marker"});

  auto filter_users = engine::MakeKeyFilter(spec.targets[0].filter);
  auto filter_orders = engine::MakeKeyFilter(spec.targets[1].filter);
  absl::StatusOr<testing::ShardCheckReport> report = CheckShards(
      source_client,
      {{"users", filter_users->get(), &users}, {"orders", filter_orders->get(), &orders}},
      /*db_count=*/1);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_EQ(report->keys_per_target[0], 3000u - 500 + 1);  // user:1000..1499 deleted; + marker
  EXPECT_EQ(report->keys_per_target[1], 3000u - 500 + 1);  // order:0..499 deleted; + marker
  status = job.Snapshot();
  EXPECT_GT(status.targets[1].commands_dropped, 0u);  // session:* writes
}

TEST(JobSplitTest, DiskBasedSyncWithLengthFramingAndAuth) {
  // repl-diskless-sync no: the source sends "$<length>" and a file from disk.
  testing::RedisServerOptions options;
  options.extra_args = {"--repl-diskless-sync", "no", "--requirepass", "s3cret"};
  absl::StatusOr<std::unique_ptr<RedisServer>> source = RedisServer::Start(options);
  ASSERT_TRUE(source.ok()) << source.status();
  auto target = StartServer();
  ASSERT_TRUE(target);
  absl::StatusOr<RedisClient> source_client = RedisClient::Connect("127.0.0.1", (*source)->port());
  ASSERT_TRUE(source_client.ok());
  ASSERT_TRUE(source_client->CheckedCommand({"AUTH", "s3cret"}).ok());
  std::vector<std::vector<std::string>> fill;
  for (int i = 0; i < 2000; ++i) {
    fill.push_back({"SET", absl::StrCat("k", i), std::string(i % 300, 'v')});
  }
  ASSERT_TRUE(source_client->Pipeline(fill).ok());

  JobSpec spec;
  spec.source.address = (*source)->address();
  spec.source.credentials.password = "s3cret";
  spec.targets.push_back(
      MakeTarget("all", FilterKind::kGlob, "k*", testing::PickFreePort(), target.get()));
  Job job("disk", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  EXPECT_GT(status.rdb_bytes_total, 0u);  // the announced length
  EXPECT_EQ(status.rdb_bytes_read, status.rdb_bytes_total);
  EXPECT_EQ(status.targets[0].rdb_keys_kept, 2000u);

  RedisClient target_client = Connect(*target);
  WaitForMarkers(*source_client, {&target_client}, {"k-marker"});
  auto filter = engine::MakeKeyFilter(spec.targets[0].filter);
  absl::StatusOr<testing::ShardCheckReport> report =
      CheckShards(*source_client, {{"all", filter->get(), &target_client}}, 1);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_EQ(report->keys_per_target[0], 2001u);
}

TEST(JobSplitTest, WrongSourcePasswordFailsClearly) {
  testing::RedisServerOptions options;
  options.extra_args = {"--requirepass", "right"};
  absl::StatusOr<std::unique_ptr<RedisServer>> source = RedisServer::Start(options);
  ASSERT_TRUE(source.ok()) << source.status();
  JobSpec spec;
  spec.source.address = (*source)->address();
  spec.source.credentials.password = "wrong";
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kPrefix, "a", testing::PickFreePort(), nullptr));
  Job job("auth", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(20));
  ASSERT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.error.message(),
            absl::StrCat("source ", (*source)->address(),
                         ": AUTH failed: WRONGPASS invalid username-password pair or user is "
                         "disabled."));
}

TEST(JobSplitTest, ManagedTargetTooOldForTheSnapshotFailsNamingBothVersions) {
  std::string redis6 = absl::StrCat(RESHARD_BINARY_DIR, "/servers/redis-6.0/bin/redis-server");
  if (const char* env = std::getenv("RESHARD_REDIS6_SERVER")) redis6 = env;
  if (access(redis6.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no Redis 6.0 at " << redis6 << ": run scripts/fetch_servers.sh build/servers";
  }
  auto source = StartServer();  // Redis 7.0: RDB 10
  testing::RedisServerOptions old_options;
  old_options.binary = redis6;
  absl::StatusOr<std::unique_ptr<RedisServer>> old_target = RedisServer::Start(old_options);
  ASSERT_TRUE(source && old_target.ok()) << old_target.status();
  JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      MakeTarget("old", FilterKind::kGlob, "*", testing::PickFreePort(), old_target->get()));
  Job job("versions", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(20));
  ASSERT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.error.message(),
            "target 'old' runs Redis 6.0.16 (RDB 9), which cannot load the snapshot of the "
            "source (Redis 7.0.15 (RDB 10), RDB 10): upgrade the target to a release that reads "
            "RDB 10");
}

TEST(JobSplitTest, DroppedSourceLinkContinuesWithPartialSync) {
  auto source = StartServer();
  auto target_a = StartServer();
  auto target_b = StartServer();
  ASSERT_TRUE(source && target_a && target_b);
  RedisClient source_client = Connect(*source);
  FillNumericDataset(source_client, 4000);
  JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kRegex, "^[0-4]", testing::PickFreePort(), target_a.get()));
  spec.targets.push_back(
      MakeTarget("b", FilterKind::kRegex, "^[5-9]", testing::PickFreePort(), target_b.get()));
  Job job("reconnect", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, source->port(), &stop, &rounds);
  // Drop reshardd's replica link three times while writes go on.
  for (int drop = 0; drop < 3; ++drop) {
    int before = rounds.load();
    ASSERT_TRUE(
        RedisClient::WaitFor([&] { return rounds.load() > before + 10; }, absl::Seconds(30)).ok());
    absl::StatusOr<engine::RespValue> killed =
        source_client.CheckedCommand({"CLIENT", "KILL", "TYPE", "replica"});
    ASSERT_TRUE(killed.ok()) << killed.status();
    EXPECT_EQ(killed->integer, 1);
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> ok =
                          source_client.InfoField("stats", "sync_partial_ok");
                      return ok.ok() && *ok == std::to_string(drop + 1);
                    },
                    absl::Seconds(30), "partial resync")
                    .ok());
  }
  stop = true;
  writer.join();
  RedisClient a = Connect(*target_a);
  RedisClient b = Connect(*target_b);
  WaitForMarkers(source_client, {&a, &b}, {"0:marker", "5:marker"});
  auto filter_a = engine::MakeKeyFilter(spec.targets[0].filter);
  auto filter_b = engine::MakeKeyFilter(spec.targets[1].filter);
  absl::StatusOr<testing::ShardCheckReport> report = CheckShards(
      source_client, {{"a", filter_a->get(), &a}, {"b", filter_b->get(), &b}}, /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_EQ(*source_client.InfoField("stats", "sync_full"), "1");
  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming);
  EXPECT_EQ(status.upstream_reconnects, 3u);
  EXPECT_TRUE(status.upstream_connected);
}

TEST(JobSplitTest, TargetThatReconnectsContinuesFromItsBacklog) {
  auto source = StartServer();
  auto target_a = StartServer();
  auto target_b = StartServer();
  ASSERT_TRUE(source && target_a && target_b);
  RedisClient source_client = Connect(*source);
  FillNumericDataset(source_client, 4000);
  JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kRegex, "^[0-4]", testing::PickFreePort(), target_a.get()));
  spec.targets.push_back(
      MakeTarget("b", FilterKind::kRegex, "^[5-9]", testing::PickFreePort(), target_b.get()));
  Job job("target-reconnect", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;

  RedisClient a = Connect(*target_a);
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, source->port(), &stop, &rounds);
  for (int drop = 0; drop < 3; ++drop) {
    int before = rounds.load();
    ASSERT_TRUE(
        RedisClient::WaitFor([&] { return rounds.load() > before + 10; }, absl::Seconds(30)).ok());
    // The target drops its link to reshardd and asks to continue.
    absl::StatusOr<engine::RespValue> killed =
        a.CheckedCommand({"CLIENT", "KILL", "TYPE", "master"});
    ASSERT_TRUE(killed.ok()) << killed.status();
    EXPECT_EQ(killed->integer, 1);
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> link =
                          a.InfoField("replication", "master_link_status");
                      return link.ok() && *link == "up";
                    },
                    absl::Seconds(30), "target a's link back up")
                    .ok());
  }
  stop = true;
  writer.join();
  RedisClient b = Connect(*target_b);
  WaitForMarkers(source_client, {&a, &b}, {"0:marker", "5:marker"});
  auto filter_a = engine::MakeKeyFilter(spec.targets[0].filter);
  auto filter_b = engine::MakeKeyFilter(spec.targets[1].filter);
  absl::StatusOr<testing::ShardCheckReport> report = CheckShards(
      source_client, {{"a", filter_a->get(), &a}, {"b", filter_b->get(), &b}}, /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  // Each reconnect was a partial resync from reshardd's backlog (the target
  // logs it), not a new snapshot.
  std::ifstream log(target_a->log_path());
  std::string line;
  int partial = 0;
  while (std::getline(log, line)) {
    if (line.find("Master accepted a Partial Resynchronization") != std::string::npos) ++partial;
  }
  EXPECT_EQ(partial, 3);
  EXPECT_EQ(*source_client.InfoField("stats", "sync_full"), "1");
  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming);
  EXPECT_EQ(status.targets[0].connected_replicas, 1u);
}

TEST(JobSplitTest, RestartedSourceFailsAskingForANewJob) {
  auto source = StartServer();
  auto target = StartServer();
  ASSERT_TRUE(source && target);
  JobSpec spec;
  spec.source.address = source->address();
  spec.options.reconnect_window_ms = 20000;
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kGlob, "*", testing::PickFreePort(), target.get()));
  Job job("restart", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  // A restarted source has a new replication id: it can only offer a full
  // resync, which the targets cannot take mid-stream.
  ASSERT_TRUE(source->Restart().ok());
  status = WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_EQ(status.error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.error.message().find("the source answered FULLRESYNC"), std::string::npos)
      << status.error;
  EXPECT_NE(status.error.message().find("create a new job"), std::string::npos) << status.error;
}

TEST(JobSplitTest, CorruptSnapshotNeverReachesATargetAndFailsWithDataLoss) {
  testing::RedisServerOptions options;
  options.extra_args = {"--rdbcompression", "no"};
  absl::StatusOr<std::unique_ptr<RedisServer>> source = RedisServer::Start(options);
  auto target = StartServer();
  ASSERT_TRUE(source.ok() && target) << source.status();
  RedisClient source_client = Connect(**source);
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "big", std::string(1 << 20, 'x')}).ok());
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "small", "1"}).ok());

  // Between the source and reshardd: flip one byte 500000 bytes into the RDB
  // payload (inside the value of "big", so only the CRC64 can notice).
  constexpr uint64_t kFlipAt = 500000;
  std::string seen;
  uint64_t payload_start = 0;
  auto flip = [&](uint64_t offset, std::string* chunk) {
    if (payload_start == 0) {
      seen += *chunk;
      size_t mark = seen.find("$EOF:");
      if (mark == std::string::npos || seen.size() < mark + 47) return;
      payload_start = mark + 47;  // "$EOF:" + 40-byte mark + CRLF
    }
    if (kFlipAt + payload_start >= offset && kFlipAt + payload_start < offset + chunk->size()) {
      (*chunk)[kFlipAt + payload_start - offset] ^= 0x01;
    }
  };
  absl::StatusOr<std::unique_ptr<testing::FaultProxy>> proxy =
      testing::FaultProxy::Start((*source)->port(), flip);
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  JobSpec spec;
  spec.source.address = (*proxy)->address();
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kGlob, "*", testing::PickFreePort(), target.get()));
  Job job("corrupt", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  ASSERT_NE(payload_start, 0u);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kDataLoss) << status.error;
  EXPECT_NE(status.error.message().find("snapshot from source: rdb offset"), std::string::npos)
      << status.error;
  EXPECT_NE(status.error.message().find("CRC64 mismatch"), std::string::npos) << status.error;
  // The offset is the trailer's within the RDB (a 1 MiB value plus a few
  // hundred bytes of header), not counted from the link's first byte.
  uint64_t rdb_offset = 0;
  std::string message(status.error.message());
  size_t at = message.find("rdb offset ");
  ASSERT_NE(at, std::string::npos);
  rdb_offset = std::stoull(message.substr(at + 11));
  EXPECT_GT(rdb_offset, 1u << 20);
  EXPECT_LT(rdb_offset, (1u << 20) + 512);

  // The target got most of the payload but never its end mark: it loaded nothing.
  RedisClient target_client = Connect(*target);
  absl::StatusOr<engine::RespValue> size = target_client.CheckedCommand({"DBSIZE"});
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->integer, 0);
  EXPECT_EQ(*target_client.InfoField("replication", "master_link_status"), "down");
}

// Regression: a replica that loads an EOF-marked snapshot to disk finds the
// end mark only at the end of a read, so reshardd must not send anything after
// the mark until the replica's first REPLCONF ACK (Redis masters wait the same
// way). Before the fix, stream bytes right after the mark made targets hang.
TEST(JobSplitTest, StreamWaitsForTheTargetsFirstAckAfterItsSnapshot) {
  auto source = StartServer();
  ASSERT_TRUE(source);
  RedisClient source_client = Connect(*source);
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "k1", "v1"}).ok());
  JobSpec spec;
  spec.source.address = source->address();
  uint16_t listen_port = testing::PickFreePort();
  spec.targets.push_back(MakeTarget("a", FilterKind::kPrefix, "k", listen_port, nullptr));
  Job job("first-ack", spec);
  job.Start();

  // The test is the replica here, speaking the protocol by hand.
  absl::StatusOr<RedisClient> replica =
      RedisClient::Connect("127.0.0.1", listen_port, absl::Milliseconds(700));
  for (int i = 0; !replica.ok() && i < 50; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    replica = RedisClient::Connect("127.0.0.1", listen_port, absl::Milliseconds(700));
  }
  ASSERT_TRUE(replica.ok()) << replica.status();
  ASSERT_TRUE(replica->CheckedCommand({"REPLCONF", "capa", "eof", "capa", "psync2"}).ok());
  ASSERT_TRUE(replica->SendRaw("*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n").ok());
  absl::StatusOr<engine::RespValue> fullresync = replica->ReadReply();
  ASSERT_TRUE(fullresync.ok()) << fullresync.status();
  ASSERT_EQ(fullresync->str.substr(0, 11), "FULLRESYNC ");

  // "$EOF:<mark>\r\n" after keepalives.
  std::string line;
  while (line.size() < 2 || line.substr(line.size() - 2) != "\r\n") {
    absl::StatusOr<std::string> byte = replica->ReadBytes(1);
    ASSERT_TRUE(byte.ok()) << byte.status();
    if (line.empty() && *byte == "\n") continue;
    line += *byte;
  }
  ASSERT_EQ(line.substr(0, 5), "$EOF:");
  std::string mark = line.substr(5, 40);
  // A write after the snapshot point: it belongs to the stream.
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "k2", "v2"}).ok());
  std::string rdb;
  while (rdb.size() < 40 || rdb.substr(rdb.size() - 40) != mark) {
    absl::StatusOr<std::string> byte = replica->ReadBytes(1);
    ASSERT_TRUE(byte.ok()) << byte.status() << " after " << rdb.size() << " RDB bytes";
    rdb += *byte;
  }
  ASSERT_EQ(rdb.substr(0, 5), "REDIS");
  ASSERT_EQ(WaitForState(job, JobState::kStreaming, absl::Seconds(10)).state, JobState::kStreaming);
  // Nothing may follow the mark before the ACK, though k2 is waiting.
  absl::SleepFor(absl::Milliseconds(300));
  absl::StatusOr<std::string> early = replica->ReadBytes(1);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kDeadlineExceeded)
      << "bytes right after the end mark: " << (early.ok() ? *early : "");

  // After the first ACK the held stream flows: SELECT 0, then SET k2 v2.
  ASSERT_TRUE(replica->SendRaw("*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n").ok());
  absl::StatusOr<engine::RespValue> select = replica->ReadReply();
  ASSERT_TRUE(select.ok()) << select.status();
  EXPECT_EQ(select->ToString(), engine::RespValue::Array({engine::RespValue::BulkString("SELECT"),
                                                          engine::RespValue::BulkString("0")})
                                    .ToString());
  absl::StatusOr<engine::RespValue> set = replica->ReadReply();
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->elements.size(), 3u) << set->ToString();
  EXPECT_EQ(set->elements[1].str, "k2");
  EXPECT_EQ(set->elements[2].str, "v2");
}

TEST(JobSplitTest, UnreachableSourceFailsWithTheAddress) {
  JobSpec spec;
  uint16_t dead_port = testing::PickFreePort();
  spec.source.address = absl::StrCat("127.0.0.1:", dead_port);
  spec.options.connect_attempts = 2;
  spec.targets.push_back(
      MakeTarget("a", FilterKind::kPrefix, "a", testing::PickFreePort(), nullptr));
  Job job("dead", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.error.message(),
            absl::StrCat("source 127.0.0.1:", dead_port, ": cannot connect: Connection refused"));
}

TEST(JobSplitTest, ListenAddressInUseFailsNamingTheField) {
  auto source = StartServer();
  ASSERT_TRUE(source);
  JobSpec spec;
  spec.source.address = source->address();
  // The source's own port is certainly taken.
  spec.targets.push_back(MakeTarget("a", FilterKind::kPrefix, "a", source->port(), nullptr));
  Job job("busy", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(10));
  ASSERT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.error.message(), absl::StrCat("targets[0].listen: cannot listen on ",
                                                 source->address(), ": Address already in use"));
}

TEST(JobSplitTest, CancelWhileWaitingForTargetsFreesTheListener) {
  auto source = StartServer();
  ASSERT_TRUE(source);
  JobSpec spec;
  spec.source.address = source->address();
  uint16_t listen_port = testing::PickFreePort();
  spec.targets.push_back(MakeTarget("a", FilterKind::kPrefix, "a", listen_port, nullptr));
  auto job = std::make_unique<Job>("cancel", spec);
  job->Start();
  JobStatus status = job->Snapshot();
  while (status.detail.find("waiting for targets") == std::string::npos) {
    ASSERT_FALSE(engine::IsTerminal(status.state)) << status.error;
    status = job->WaitForChange(status.version, absl::Seconds(5));
  }
  EXPECT_EQ(status.detail, "waiting for targets 'a' to replicate from their listeners");
  job->Cancel();
  EXPECT_EQ(WaitForState(*job, JobState::kCancelled, absl::Seconds(10)).state,
            JobState::kCancelled);
  job.reset();
  // The port can be bound again.
  JobSpec again = spec;
  Job second("again", again);
  second.Start();
  status = second.Snapshot();
  while (status.detail.find("waiting for targets") == std::string::npos) {
    ASSERT_FALSE(engine::IsTerminal(status.state)) << status.error;
    status = second.WaitForChange(status.version, absl::Seconds(5));
  }
}

}  // namespace
}  // namespace reshard
