// A job that followed its source through a Sentinel failover, then
// reshardd restarted (a real process, SIGKILLed): the failover history the
// status showed is shown again, the job continues on the new master with
// PSYNC (no fork there, no full resync of a target), every key exact; and a
// verification reads the new master, the job's current source, not the
// spec's (which names no address at all: the Sentinel's to say).

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/integration/restart_harness.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class SourceFailoverRestartTest : public RestartTest {
 protected:
  // A Sentinel (quorum 1) watching source_ as "mymaster", once it knows
  // `replica` (SENTINEL FAILOVER needs one).
  std::unique_ptr<testing::RedisServer> StartSentinel(const testing::RedisServer& replica) {
    {
      std::ofstream conf(dir_ / "sentinel.conf");
      conf << "sentinel monitor mymaster 127.0.0.1 " << source_->port() << " 1\n"
           << "sentinel down-after-milliseconds mymaster 5000\n"
           << "sentinel failover-timeout mymaster 10000\n";
    }
    testing::RedisServerOptions options;
    options.config_file = dir_ / "sentinel.conf";
    options.dir = dir_.path();
    options.extra_args = {"--sentinel"};
    std::unique_ptr<testing::RedisServer> sentinel = testing::StartServer(options);
    if (sentinel == nullptr) return nullptr;
    testing::RedisClient s = testing::Connect(*sentinel);
    EXPECT_TRUE(testing::RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<engine::RespValue> replicas =
                          s.CheckedCommand({"SENTINEL", "REPLICAS", "mymaster"});
                      return replicas.ok() &&
                             absl::StrContains(replicas->ToString(), replica.address());
                    },
                    absl::Seconds(30), "the Sentinel knows the replica")
                    .ok());
    return sentinel;
  }
  // Until `replica` has all of source_'s replication offset, its link up.
  void WaitForReplicaCaughtUp(testing::RedisClient& replica) {
    const std::string offset = *source_client_->InfoField("replication", "master_repl_offset");
    ASSERT_TRUE(testing::RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> link =
                          replica.InfoField("replication", "master_link_status");
                      absl::StatusOr<std::string> at =
                          replica.InfoField("replication", "master_repl_offset");
                      return link.ok() && *link == "up" && at.ok() && *at == offset;
                    },
                    absl::Seconds(60), "the replica caught up")
                    .ok());
  }
};

TEST_F(SourceFailoverRestartTest, FailoverHistorySurvivesARestartAndVerifyReadsTheNewMaster) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000));
  testing::RedisServerOptions replica_options;
  replica_options.extra_args = {"--repl-backlog-size", "64mb"};
  std::unique_ptr<testing::RedisServer> replica = testing::StartServer(replica_options);
  ASSERT_TRUE(replica);
  testing::RedisClient r = testing::Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaCaughtUp(r));
  std::unique_ptr<testing::RedisServer> sentinel = StartSentinel(*replica);
  ASSERT_TRUE(sentinel);
  testing::RedisClient s = testing::Connect(*sentinel);
  // No source address: the Sentinel names the master.
  ASSERT_NO_FATAL_FAILURE(CreateJob([&](v1::Endpoint* source) {
    source->clear_address();
    source->mutable_sentinel()->add_addresses(sentinel->address());
    source->mutable_sentinel()->set_master_name("mymaster");
  }));
  v1::Job job = WaitAllStreaming();
  EXPECT_EQ(job.status().source_address(), source_->address());
  {
    Workload before(source_->port(), 64, kWorkloadKeys);
    before.WaitRounds(5);
  }
  // A graceful failover (as SourceFailoverTest's): M's writes pause, so
  // that nothing reaches reshardd that R has not.
  ASSERT_TRUE(source_client_->CheckedCommand({"CLIENT", "PAUSE", "10000", "WRITE"}).ok());
  ASSERT_NO_FATAL_FAILURE(WaitCaughtUp());
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaCaughtUp(r));
  const std::string m_address = source_->address();
  ASSERT_TRUE(s.CheckedCommand({"SENTINEL", "FAILOVER", "mymaster"}).ok());
  job = WaitJob(
      [](const v1::Job& job) {
        const v1::JobStatus& s = job.status();
        return s.source_failovers_size() == 1 &&
               s.source_failovers(0).kind() != v1::SourceFailover::PENDING &&
               s.state() == v1::JobStatus::STREAMING;
      },
      absl::Seconds(60), "the failover followed");
  ASSERT_EQ(job.status().source_failovers_size(), 1) << Describe(job);
  const v1::SourceFailover failover = job.status().source_failovers(0);
  EXPECT_EQ(failover.from(), m_address);
  EXPECT_EQ(failover.to(), replica->address());
  EXPECT_EQ(failover.kind(), v1::SourceFailover::PARTIAL) << failover.detail();
  EXPECT_THAT(failover.detail(), HasSubstr("+CONTINUE"));
  EXPECT_GT(failover.offset(), 0u);
  EXPECT_TRUE(failover.has_time());
  EXPECT_EQ(job.status().source_failovers_partial(), 1u);
  EXPECT_EQ(job.status().source_failovers_full(), 0u);

  // M is gone (stopped by its PID); writes go to R, the source now.
  source_client_->Command({"CLIENT", "UNPAUSE"}).IgnoreError();
  ASSERT_TRUE(source_->Stop().ok());
  source_ = std::move(replica);
  source_client_.emplace(testing::Connect(*source_));
  Workload workload(source_->port(), 64, kWorkloadKeys);
  workload.WaitRounds(5);
  ASSERT_NO_FATAL_FAILURE(WaitCaughtUp());
  EXPECT_EQ(SourceStat("sync_full"), "0") << "the job continued on R with PSYNC";
  std::vector<int> full(kTargets);
  for (size_t t = 0; t < kTargets; ++t) full[t] = FullResyncs(t);

  // reshardd crashes and comes back, writes going on meanwhile.
  reshardd_->Kill();
  workload.WaitRounds(3);
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  job = WaitJob(
      [](const v1::Job& job) {
        return AllStreaming(job) && !job.status().restore_detail().empty();
      },
      absl::Seconds(60), "the restored job to stream");
  EXPECT_THAT(job.status().restore_detail(), StartsWith("continued after a restart: "));
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("(PSYNC +CONTINUE, no fork)"));
  EXPECT_EQ(job.status().source_address(), source_->address());
  // The same history as before the restart, record for record.
  ASSERT_EQ(job.status().source_failovers_size(), 1) << Describe(job);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(job.status().source_failovers(0),
                                                                 failover))
      << job.status().source_failovers(0).DebugString() << " vs " << failover.DebugString();
  EXPECT_EQ(job.status().source_failovers_partial(), 1u);
  EXPECT_EQ(job.status().source_failovers_full(), 0u);
  EXPECT_EQ(SourceStat("sync_full"), "0") << "no fork on R after the restart";
  for (size_t t = 0; t < kTargets; ++t) {
    EXPECT_EQ(FullResyncs(t), full[t]) << kNames[t] << ": no full resync";
  }
  ASSERT_NO_FATAL_FAILURE(ExpectExactAfterCatchUp(&workload));

  // A full verification reads R (the spec names no address; M is gone).
  absl::Status verify = reshardd_->Verify(kJob);
  ASSERT_TRUE(verify.ok()) << verify;
  job = WaitJob(
      [](const v1::Job& job) {
        return job.has_last_verification() &&
               job.last_verification().state() != v1::VerifyReport::RUNNING;
      },
      absl::Seconds(60), "the verification to end");
  const v1::VerifyReport& report = job.last_verification();
  EXPECT_EQ(report.state(), v1::VerifyReport::DONE) << report.error();
  EXPECT_EQ(report.source_address(), source_->address());
  EXPECT_GT(report.keys_checked(), 1000u);
  EXPECT_EQ(report.missing(), 0u);
  EXPECT_EQ(report.stray(), 0u);
  EXPECT_EQ(report.different(), 0u);
  EXPECT_EQ(report.unsettled(), 0u);
}

}  // namespace
}  // namespace reshard::integration
