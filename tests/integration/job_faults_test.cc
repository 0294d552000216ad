// Faults end to end: wrong passwords, targets too old for the snapshot,
// dropped links on both sides, a restarted source, a snapshot corrupted in
// flight, unreachable sources and busy ports. Each must end in a clear error
// or an exact recovery; never in a target holding wrong data.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "tests/integration/split_harness.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_binaries.h"

namespace reshard::integration {
namespace {

TEST(JobFaultsTest, WrongSourcePasswordFailsClearly) {
  testing::RedisServerOptions options;
  options.extra_args = {"--requirepass", "right"};
  absl::StatusOr<std::unique_ptr<RedisServer>> source = RedisServer::Start(options);
  ASSERT_TRUE(source.ok()) << source.status();
  JobSpec spec;
  spec.source.address = (*source)->address();
  spec.source.credentials.password = "wrong";
  spec.targets.push_back(
      MakeTarget("a", {FilterKind::kPrefix, "a"}, testing::PickFreePort(), nullptr));
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

TEST(JobFaultsTest, ManagedTargetTooOldForTheSnapshotFailsNamingBothVersions) {
  const std::string fetched = "redis-6.0/bin/redis-server";
  std::optional<std::string> redis6 = testing::FindServerBinary("RESHARD_REDIS6_SERVER", fetched);
  if (!redis6.has_value()) {
    GTEST_SKIP() << "no Redis 6.0 at $RESHARD_REDIS6_SERVER or "
                 << testing::FetchedServerPath(fetched)
                 << ": run scripts/fetch_servers.sh build/servers";
  }
  auto source = StartServer();  // Redis 7.0: RDB 10
  testing::RedisServerOptions old_options;
  old_options.binary = *redis6;
  absl::StatusOr<std::unique_ptr<RedisServer>> old_target = RedisServer::Start(old_options);
  ASSERT_TRUE(source && old_target.ok()) << old_target.status();
  JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(
      MakeTarget("old", {FilterKind::kGlob, "*"}, testing::PickFreePort(), old_target->get()));
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

TEST_F(HalvesTest, DroppedSourceLinkContinuesWithPartialSync) {
  ASSERT_NO_FATAL_FAILURE(StartServers(4000));
  RedisClient& source_client = *source_client_;
  StartJob("reconnect");
  Job& job = *job_;
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;

  // Drop reshardd's replica link three times while writes go on.
  DisruptWhileWriting(3, [&](int drop) {
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
  });
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_EQ(*source_client.InfoField("stats", "sync_full"), "1");
  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming);
  EXPECT_EQ(status.upstream_reconnects, 3u);
  EXPECT_TRUE(status.upstream_connected);
}

TEST_F(HalvesTest, TargetThatReconnectsContinuesFromItsBacklog) {
  ASSERT_NO_FATAL_FAILURE(StartServers(4000));
  RedisClient& source_client = *source_client_;
  StartJob("target-reconnect");
  Job& job = *job_;
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;

  RedisClient a = Connect(*target_a_);
  DisruptWhileWriting(3, [&](int) {
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
  });
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  // Each reconnect was a partial resync from reshardd's backlog (the target
  // logs it), not a new snapshot.
  std::ifstream log(target_a_->log_path());
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

TEST(JobFaultsTest, RestartedSourceFailsAskingForANewJob) {
  auto source = StartServer();
  auto target = StartServer();
  ASSERT_TRUE(source && target);
  JobSpec spec;
  spec.source.address = source->address();
  spec.options.reconnect_window_ms = 20000;
  spec.targets.push_back(
      MakeTarget("a", {FilterKind::kGlob, "*"}, testing::PickFreePort(), target.get()));
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

TEST(JobFaultsTest, CorruptSnapshotNeverReachesATargetAndFailsWithDataLoss) {
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
      MakeTarget("a", {FilterKind::kGlob, "*"}, testing::PickFreePort(), target.get()));
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

// A Valkey 9 source whose hash fields expire cannot write RDB 11 (what it
// sends when reshardd announces no version, because a target is not a Valkey
// 9): its BGSAVE child fails and it closes the link. The job says so and where
// to look, instead of a bare "connection lost".
TEST(JobFaultsTest, SourceThatDropsTheLinkDuringTheSnapshotIsNamedWithWhatToCheck) {
  const std::string fetched9 = "valkey-9.1/bin/valkey-server";
  const std::string fetched8 = "valkey-8.0/bin/valkey-server";
  std::optional<std::string> valkey9 =
      testing::FindServerBinary("RESHARD_VALKEY9_SERVER", fetched9);
  std::optional<std::string> valkey8 = testing::FindServerBinary("RESHARD_VALKEY_SERVER", fetched8);
  if (!valkey9.has_value() || !valkey8.has_value()) {
    GTEST_SKIP() << "needs Valkey 9.1 and 8.0 (" << testing::FetchedServerPath(fetched9) << ", "
                 << testing::FetchedServerPath(fetched8) << "): run scripts/fetch_servers.sh";
  }
  testing::RedisServerOptions source_options, target_options;
  source_options.binary = *valkey9;
  target_options.binary = *valkey8;
  absl::StatusOr<std::unique_ptr<RedisServer>> source = RedisServer::Start(source_options);
  absl::StatusOr<std::unique_ptr<RedisServer>> target = RedisServer::Start(target_options);
  ASSERT_TRUE(source.ok() && target.ok()) << source.status() << target.status();
  RedisClient source_client = Connect(**source);
  testing::RunWithoutErrors(source_client, {{"HSET", "h", "f", "v", "g", "w"},
                                            {"HPEXPIRE", "h", "3600000", "FIELDS", "1", "f"},
                                            {"SET", "s", "1"}});
  JobSpec spec;
  spec.source.address = (*source)->address();
  spec.targets.push_back(
      MakeTarget("v8", {FilterKind::kGlob, "*"}, testing::PickFreePort(), target->get()));
  Job job("dropped", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_EQ(status.error.code(), absl::StatusCode::kUnavailable) << status.error;
  std::string message(status.error.message());
  EXPECT_EQ(message.rfind(absl::StrCat("source ", (*source)->address(),
                                       " closed the link during the snapshot, after "),
                          0),
            0u)
      << message;
  EXPECT_NE(message.find("the source's log says why, e.g. a failed BGSAVE child"),
            std::string::npos)
      << message;
  RedisClient target_client = Connect(**target);
  EXPECT_EQ(target_client.CheckedCommand({"DBSIZE"})->integer, 0);
}

// An unmanaged Valkey target says its version only with REPLCONF version;
// that is checked against the snapshot's header before a byte is sent.
TEST(JobFaultsTest, UnmanagedTargetTooOldForTheSnapshotIsRefusedByItsAnnouncedVersion) {
  const std::string fetched8 = "redis-8.0/bin/redis-server";
  const std::string fetchedv = "valkey-8.0/bin/valkey-server";
  std::optional<std::string> redis8 = testing::FindServerBinary("RESHARD_REDIS8_SERVER", fetched8);
  std::optional<std::string> valkey8 = testing::FindServerBinary("RESHARD_VALKEY_SERVER", fetchedv);
  if (!redis8.has_value() || !valkey8.has_value()) {
    GTEST_SKIP() << "needs Redis 8.0 and Valkey 8.0 (" << testing::FetchedServerPath(fetched8)
                 << ", " << testing::FetchedServerPath(fetchedv)
                 << "): run scripts/fetch_servers.sh";
  }
  testing::RedisServerOptions source_options, target_options;
  source_options.binary = *redis8;   // RDB 12
  target_options.binary = *valkey8;  // announces 8.0.1: loads RDB 11
  absl::StatusOr<std::unique_ptr<RedisServer>> source = RedisServer::Start(source_options);
  absl::StatusOr<std::unique_ptr<RedisServer>> target = RedisServer::Start(target_options);
  ASSERT_TRUE(source.ok() && target.ok()) << source.status() << target.status();
  RedisClient source_client = Connect(**source);
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "k", "v"}).ok());
  JobSpec spec;
  spec.source.address = (*source)->address();
  uint16_t listen = testing::PickFreePort();
  spec.targets.push_back(MakeTarget("v8", {FilterKind::kGlob, "*"}, listen, nullptr));
  Job job("announced", spec);
  job.Start();
  RedisClient target_client = Connect(**target);
  ASSERT_TRUE(
      target_client.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(listen)}).ok());
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_EQ(status.error.code(), absl::StatusCode::kFailedPrecondition) << status.error;
  EXPECT_EQ(status.error.message(),
            "target 'v8' runs Valkey 8.0.1 (RDB 11), which cannot load the snapshot of the source "
            "(Redis 8.0.6 (RDB 12), RDB 12): Redis 7.4 and later write RDB 12 and up, a format "
            "Valkey refuses as foreign (rdb-version-check strict); use a Redis target of the "
            "source's version or newer");
  EXPECT_EQ(target_client.CheckedCommand({"DBSIZE"})->integer, 0);
}

TEST(JobFaultsTest, UnreachableSourceFailsWithTheAddress) {
  JobSpec spec;
  uint16_t dead_port = testing::PickFreePort();
  spec.source.address = absl::StrCat("127.0.0.1:", dead_port);
  spec.options.connect_attempts = 2;
  spec.targets.push_back(
      MakeTarget("a", {FilterKind::kPrefix, "a"}, testing::PickFreePort(), nullptr));
  Job job("dead", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(30));
  ASSERT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.error.message(),
            absl::StrCat("source 127.0.0.1:", dead_port, ": cannot connect: Connection refused"));
}

TEST(JobFaultsTest, ListenAddressInUseFailsNamingTheField) {
  auto source = StartServer();
  ASSERT_TRUE(source);
  JobSpec spec;
  spec.source.address = source->address();
  // The source's own port is certainly taken.
  spec.targets.push_back(MakeTarget("a", {FilterKind::kPrefix, "a"}, source->port(), nullptr));
  Job job("busy", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kFailed, absl::Seconds(10));
  ASSERT_EQ(status.state, JobState::kFailed);
  EXPECT_EQ(status.error.message(), absl::StrCat("targets[0].listen: cannot listen on ",
                                                 source->address(), ": Address already in use"));
}

TEST(JobFaultsTest, CancelWhileWaitingForTargetsFreesTheListener) {
  auto source = StartServer();
  ASSERT_TRUE(source);
  JobSpec spec;
  spec.source.address = source->address();
  uint16_t listen_port = testing::PickFreePort();
  spec.targets.push_back(MakeTarget("a", {FilterKind::kPrefix, "a"}, listen_port, nullptr));
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
}  // namespace reshard::integration
