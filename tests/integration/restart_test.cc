// A restart of reshardd costs no fork on the source and no full resync of a
// target (issue 11). reshardd runs as a real process with a state dir and is
// SIGKILLed (as a crash) or SIGTERMed; a real Redis source with writes
// running, two managed targets (or one and a 3-master cluster); every case ends in an exact compare
// of every key, value and TTL (two cases run in process: a restored job whose source is down;
// options.set_source_backlog). The source's sync_full (INFO stats) counts its forks for replicas;
// each target's log counts its partial and full resyncs.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/restart_harness.h"
#include "tests/integration/split_harness.h"
#include "tests/support/cluster_shard_check.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

bool RestoredAndStreaming(const v1::Job& job) {
  return AllStreaming(job) && !job.status().restore_detail().empty();
}

TEST_F(RestartTest, ThreeKillsMidStreamCostNoForkAndNoFullResync) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000));
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  WaitAllStreaming();
  Workload workload(source_->port(), 64, kWorkloadKeys);
  // Materialised keys, and their skip windows, across the restarts too.
  CrossTargetWrites renames(source_->port());
  workload.WaitRounds(5);
  WaitCaughtUp();
  const std::string forks = SourceStat("sync_full");
  EXPECT_EQ(forks, "1");
  std::vector<int> full(kTargets), partial(kTargets);
  for (size_t t = 0; t < kTargets; ++t) {
    full[t] = FullResyncs(t);
    partial[t] = PartialResyncs(t);
    EXPECT_EQ(full[t], 1) << kNames[t];
  }
  // Three SIGKILLs in a row mid-stream, the third one while paused; then a
  // SIGTERM. Writes go on meanwhile.
  for (int round = 1; round <= 4; ++round) {
    SCOPED_TRACE(absl::StrCat("restart ", round));
    if (round == 3) {
      ASSERT_TRUE(reshardd_->Pause(kJob).ok());
      WaitJob([](const v1::Job& job) { return job.status().state() == v1::JobStatus::PAUSED; },
              absl::Seconds(10), "PAUSED");
    }
    workload.WaitRounds(3);
    if (round < 4) {
      reshardd_->Kill();
    } else {
      EXPECT_EQ(reshardd_->Terminate(), 0) << reshardd_->Log();
    }
    workload.WaitRounds(5);  // the source goes on while reshardd is down
    absl::Status started = reshardd_->Start();
    ASSERT_TRUE(started.ok()) << started;
    if (round == 3) {
      v1::Job job = WaitJob(
          [](const v1::Job& job) {
            return job.status().state() == v1::JobStatus::PAUSED &&
                   !job.status().restore_detail().empty();
          },
          absl::Seconds(30), "the job restored PAUSED");
      EXPECT_THAT(job.status().detail(), StartsWith("paused"));
      ASSERT_TRUE(reshardd_->Resume(kJob).ok());
    }
    v1::Job job = WaitJob(RestoredAndStreaming, absl::Seconds(30), "the restored job to stream");
    EXPECT_THAT(job.status().restore_detail(),
                StartsWith("continued after a restart: the source continued at offset "));
    EXPECT_THAT(job.status().restore_detail(), HasSubstr("(PSYNC +CONTINUE, no fork); 2 of 2"));
    EXPECT_EQ(SourceStat("sync_full"), forks) << "no fork on the source";
    for (size_t t = 0; t < kTargets; ++t) {
      EXPECT_EQ(FullResyncs(t), full[t]) << kNames[t] << ": no full resync";
      EXPECT_EQ(PartialResyncs(t), partial[t] + round) << kNames[t] << ": a partial resync";
    }
  }
  renames.Stop();
  EXPECT_GT(renames.writes(), 100);
  ExpectExactAfterCatchUp(&workload);
  EXPECT_EQ(SourceStat("sync_full"), forks);
  v1::Job job = *reshardd_->Get(kJob);
  EXPECT_GT(job.status().targets(1).keys_materialized(), 0u);
}

// A job of a standalone target ("left") and a cluster target ("right", 3
// masters), reshardd SIGKILLed mid-stream with writes running (INCRs that
// would double if a master applied them twice among them). The source
// continues with PSYNC and "left" from its log; the cluster, whose masters'
// applied writes are not recorded, gets a full sync of its own (one fork)
// with its filter's keys deleted first. Every key of both compared.
TEST_F(RestartTest, KillWithAClusterTargetSyncsTheClusterAloneInFullExactly) {
  ASSERT_NO_FATAL_FAILURE(StartServers(0));
  absl::StatusOr<testing::TestCluster> cluster = testing::StartTestCluster(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::vector<std::vector<std::string>> fill;  // db 0 only: a cluster has no other
  for (int i = 0; i < 2000; ++i) {
    fill.push_back({"SET", absl::StrCat(i % 10, ":f", i), absl::StrCat("v", i)});
    if (i % 5 == 0) fill.push_back({"HSET", absl::StrCat(i % 10, ":g", i), "f", "v"});
  }
  testing::RunWithoutErrors(*source_client_, fill);
  spec_.mutable_source()->set_address(source_->address());
  AddManagedTarget(0);
  v1::TargetSpec* right = spec_.add_targets();
  right->set_name(kNames[1]);
  right->mutable_filter()->set_regex("^[5-9]");
  for (const std::string& node : cluster->addresses()) right->mutable_cluster()->add_nodes(node);
  absl::StatusOr<v1::Job> created = reshardd_->Create(spec_, kJob);
  ASSERT_TRUE(created.ok()) << created.status();
  WaitAllStreaming();
  Workload workload(source_->port(), 64, kWorkloadKeys, /*dbs=*/1);
  workload.WaitRounds(5);
  WaitCaughtUp();
  EXPECT_EQ(SourceStat("sync_full"), "1");
  const int left_full = FullResyncs(0);

  reshardd_->Kill();
  workload.WaitRounds(5);  // the source goes on while reshardd is down
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  v1::Job job = WaitJob(RestoredAndStreaming, absl::Seconds(60), "the restored job to stream");
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("(PSYNC +CONTINUE, no fork)"));
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("'right' (a cluster) is synced in full"));
  EXPECT_EQ(SourceStat("sync_full"), "2") << "one more fork, for the cluster alone";
  EXPECT_EQ(FullResyncs(0), left_full) << "left: no full resync";
  workload.WaitRounds(5);  // writes after the restart go through the stream

  ASSERT_NO_FATAL_FAILURE(ExpectExactAfterCatchUp(&workload, {0}));
  auto [clients, masters] = testing::ConnectMasters(*cluster);
  // In db 0: the compare above left the client in db 1.
  ASSERT_TRUE(source_client_->CheckedCommand({"SELECT", "0"}).ok());
  ASSERT_TRUE(source_client_->CheckedCommand({"SET", kMarkers[1], "1"}).ok());
  absl::Status arrived = masters[testing::OwnerOf(masters, kMarkers[1])]->WaitForKey(
      kMarkers[1], absl::Seconds(60), kMarkers[1]);
  ASSERT_TRUE(arrived.ok()) << arrived << "; " << Describe(*reshardd_->Get(kJob));
  absl::StatusOr<std::unique_ptr<engine::KeyFilter>> filter =
      engine::MakeKeyFilter({engine::FilterKind::kRegex, "^[5-9]"});
  ASSERT_TRUE(filter.ok()) << filter.status();
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckClusterShards(*source_client_, **filter, *cluster, masters);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  size_t cluster_keys = 0;  // over the masters
  for (size_t keys : report->keys_per_target) cluster_keys += keys;
  EXPECT_GT(cluster_keys, 1200u);
}

TEST_F(RestartTest, KillMidSnapshotStartsANewFullSync) {
  // 4000 keys at 500 us each: a snapshot of about 2 s.
  ASSERT_NO_FATAL_FAILURE(StartServers(4000, {"--rdb-key-save-delay", "500"}));
  Workload workload(source_->port(), 64, kWorkloadKeys);
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  WaitJob(
      [](const v1::Job& job) {
        return job.status().state() == v1::JobStatus::SYNCING && job.status().rdb().keys_read() > 0;
      },
      absl::Seconds(30), "the snapshot to be under way");
  reshardd_->Kill();
  workload.WaitRounds(3);
  ASSERT_TRUE(source_client_->CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "0"}).ok());
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  v1::Job job = WaitJob(RestoredAndStreaming, absl::Seconds(60), "the restored job to stream");
  EXPECT_EQ(job.status().restore_detail(),
            "full sync of every target after a restart: nothing was recorded (reshardd stopped "
            "before the job's first snapshot was complete)");
  EXPECT_EQ(SourceStat("sync_full"), "2") << "the abandoned snapshot, then a new one";
  for (size_t t = 0; t < kTargets; ++t) EXPECT_GE(FullResyncs(t), 1) << kNames[t];
  ExpectExactAfterCatchUp(&workload);
}

TEST_F(RestartTest, KillWhileATargetResyncs) {
  ASSERT_NO_FATAL_FAILURE(StartServers(4000));
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  WaitAllStreaming();
  Workload workload(source_->port(), 64, kWorkloadKeys);
  workload.WaitRounds(3);
  WaitCaughtUp();
  // "right" comes back empty and asks for a full sync, which the source now
  // takes its time over.
  ASSERT_TRUE(source_client_->CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "500"}).ok());
  ASSERT_TRUE(targets_[1]->Kill().ok());
  std::filesystem::remove(targets_[1]->dir() + "/dump.rdb");
  ASSERT_TRUE(targets_[1]->Restart().ok());
  {
    testing::RedisClient right = testing::Connect(*targets_[1]);
    // Restarted, it lost the masterauth reshardd had set: the spec's password.
    ASSERT_TRUE(right.CheckedCommand({"CONFIG", "SET", "masterauth", kListenerPassword}).ok());
    ASSERT_TRUE(
        right.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(listen_ports_[1])}).ok());
  }
  WaitJob(
      [](const v1::Job& job) {
        v1::TargetStatus::State state = job.status().targets(1).state();
        return state == v1::TargetStatus::RESYNCING || state == v1::TargetStatus::SNAPSHOT;
      },
      absl::Seconds(30), "right to resync");
  const int left_partial = PartialResyncs(0);
  reshardd_->Kill();
  workload.WaitRounds(3);
  ASSERT_TRUE(source_client_->CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", "0"}).ok());
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  v1::Job job = WaitJob(RestoredAndStreaming, absl::Seconds(60), "the restored job to stream");
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("(PSYNC +CONTINUE, no fork); 1 of 2"));
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("'right' was resyncing"));
  EXPECT_EQ(PartialResyncs(0), left_partial + 1) << "left continued";
  EXPECT_EQ(job.status().targets(1).resyncs(), 1u) << "right got a full sync of its own";
  ExpectExactAfterCatchUp(&workload);
}

TEST_F(RestartTest, KillWhileCrossTargetWritesWaitForTheirCopies) {
  // A burst of SUNIONSTORE 0:d:<i> 9:s:<i>: each destination is on "left",
  // its set on "right", so every write waits for a copy of its set read
  // from the source. reshardd is killed while the burst goes through it; the
  // restarted job continues with PSYNC and may neither lose a write whose
  // copy was in flight nor apply one twice.
  constexpr int kSets = 40000;
  ASSERT_NO_FATAL_FAILURE(StartServers(500, {"--repl-backlog-size", "64mb"}));
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  WaitAllStreaming();
  Workload workload(source_->port(), 64, kWorkloadKeys);
  std::vector<std::vector<std::string>> sets, unions;
  for (int i = 0; i < kSets; ++i) {
    const std::string set = absl::StrCat("9:s:", i);
    sets.push_back({"SADD", set, "m1", absl::StrCat("m", i)});
    unions.push_back({"SUNIONSTORE", absl::StrCat("0:d:", i), set});
  }
  ASSERT_TRUE(source_client_->Pipeline(sets).ok());
  WaitCaughtUp();
  const std::string forks = SourceStat("sync_full");
  const int full_left = FullResyncs(0), full_right = FullResyncs(1);

  // The burst runs while reshardd is stopped; let go, reshardd reads it at
  // full speed and is killed a few milliseconds later, with most of the
  // burst read or waiting for copies.
  ASSERT_EQ(kill(reshardd_->pid(), SIGSTOP), 0);
  ASSERT_TRUE(source_client_->Pipeline(unions).ok());
  ASSERT_EQ(kill(reshardd_->pid(), SIGCONT), 0);
  absl::SleepFor(absl::Milliseconds(30));
  reshardd_->Kill();
  testing::RedisClient left = testing::Connect(*targets_[0]);
  absl::StatusOr<engine::RespValue> last =
      left.Command({"EXISTS", absl::StrCat("0:d:", kSets - 1)});
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->integer, 0) << "the kill came after the whole burst had been applied";

  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  v1::Job job = WaitJob(RestoredAndStreaming, absl::Seconds(60), "the restored job to stream");
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("(PSYNC +CONTINUE, no fork); 2 of 2"));
  ExpectExactAfterCatchUp(&workload);
  EXPECT_EQ(SourceStat("sync_full"), forks) << "no fork on the source";
  EXPECT_EQ(FullResyncs(0), full_left) << "left: no full resync";
  EXPECT_EQ(FullResyncs(1), full_right) << "right: no full resync";
  // The restarted job read part of the burst again and copied its sets.
  EXPECT_GE(reshardd_->Get(kJob)->status().targets(0).keys_materialized(), 1u);
}

TEST_F(RestartTest, ASourceBacklogTooSmallNeedsAFullSyncAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000, {"--repl-backlog-size", "16kb"}));
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  WaitAllStreaming();
  Workload workload(source_->port(), 512,
                    kWorkloadKeys);  // ~30 KB a batch: 16 KB hold well under a second
  v1::Job job =
      WaitJob([](const v1::Job& job) { return !job.status().source_backlog_advice().empty(); },
              absl::Seconds(30), "advice on the source's backlog");
  EXPECT_EQ(job.status().source_backlog_bytes(), 16384u);
  EXPECT_LT(job.status().source_backlog_seconds(), 60);
  EXPECT_THAT(job.status().source_backlog_advice(),
              HasSubstr("set repl-backlog-size to at least "));
  EXPECT_THAT(reshardd_->Log(), HasSubstr("source backlog: the source's repl-backlog-size (16384"));
  // Paused too: a full sync needs delivery, so the job streams after it.
  ASSERT_TRUE(reshardd_->Pause(kJob).ok());
  WaitJob([](const v1::Job& job) { return job.status().state() == v1::JobStatus::PAUSED; },
          absl::Seconds(10), "PAUSED");
  reshardd_->Kill();
  workload.WaitRounds(5);
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  job = WaitJob(RestoredAndStreaming, absl::Seconds(60), "the restored job to stream");
  EXPECT_THAT(job.status().restore_detail(),
              StartsWith("full sync of every target after a restart: the source's backlog starts "
                         "at offset "));
  EXPECT_THAT(job.status().restore_detail(), HasSubstr("it moved on while reshardd was down"));
  EXPECT_THAT(job.status().restore_detail(),
              HasSubstr("; the job was PAUSED: it streams again after the full sync"));
  EXPECT_EQ(SourceStat("sync_full"), "2");
  for (size_t t = 0; t < kTargets; ++t) EXPECT_EQ(FullResyncs(t), 2) << kNames[t];
  ExpectExactAfterCatchUp(&workload);
}

TEST_F(RestartTest, APromotedManagedTargetSurvivesARestartUntouched) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000));
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  WaitAllStreaming();
  Workload workload(source_->port(), 64, kWorkloadKeys);
  workload.WaitRounds(3);
  WaitCaughtUp();
  reshardd_->Kill();
  testing::RedisClient right = testing::Connect(*targets_[1]);
  ASSERT_TRUE(right.CheckedCommand({"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_TRUE(right.CheckedCommand({"SET", "9:promoted", "mine"}).ok());
  absl::StatusOr<std::vector<std::string>> keys_before = right.Keys(0);
  ASSERT_TRUE(keys_before.ok());
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  v1::Job job = WaitJob(
      [](const v1::Job& job) {
        return job.status().state() == v1::JobStatus::DEGRADED &&
               job.status().targets(0).state() == v1::TargetStatus::STREAMING;
      },
      absl::Seconds(30), "left streaming, the job DEGRADED by right");
  EXPECT_EQ(job.status().targets(1).state(), v1::TargetStatus::DISCONNECTED);
  EXPECT_THAT(job.status().targets(1).state_reason(),
              StartsWith("no longer this job's replica: it is a master (promoted with REPLICAOF "
                         "NO ONE?); reshardd will not send it REPLICAOF again"));
  EXPECT_THAT(job.status().detail(), HasSubstr("target 'right' DISCONNECTED: no longer"));
  workload.WaitRounds(5);
  EXPECT_EQ(*right.InfoField("replication", "role"), "master");
  EXPECT_EQ(*right.Keys(0), *keys_before) << "nothing reached it";
  std::ifstream log(targets_[1]->log_path());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  std::string after = text.substr(text.rfind("MASTER MODE enabled"));
  EXPECT_THAT(after, ::testing::Not(HasSubstr("REPLICAOF"))) << after;
  EXPECT_THAT(after, ::testing::Not(HasSubstr("Connecting to MASTER"))) << after;
  ExpectExactAfterCatchUp(&workload, {0});
}

TEST_F(RestartTest, TwoReshardOnOneStateDirAndACorruptJobFile) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000));
  ASSERT_NO_FATAL_FAILURE(CreateJob());
  // A second job, which will not be readable after the restart.
  v1::JobSpec other;
  other.mutable_source()->set_address(source_->address());
  v1::TargetSpec* target = other.add_targets();
  target->set_name("only");
  target->mutable_filter()->set_prefix("x");
  target->set_listen(absl::StrCat("127.0.0.1:", testing::PickFreePort()));
  ASSERT_TRUE(reshardd_->Create(other, "job-broken").ok());
  WaitAllStreaming();
  Workload workload(source_->port(), 64, kWorkloadKeys);

  auto [code, second_log] = reshardd_->RunSecond();
  EXPECT_EQ(code, 1);
  EXPECT_THAT(second_log, HasSubstr(absl::StrCat("is in use by another reshardd (PID ",
                                                 reshardd_->pid(), ", holding ")));

  workload.WaitRounds(3);
  WaitCaughtUp();
  reshardd_->Kill();
  const std::string broken = dir_ / "state/job-broken.json";
  std::ofstream(broken) << "{\"id\": \"job-broken\", \"spec\": {";
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
  v1::Job job = WaitJob(RestoredAndStreaming, absl::Seconds(30), "the good job to stream");
  EXPECT_THAT(job.status().restore_detail(), StartsWith("continued after a restart"));
  EXPECT_THAT(reshardd_->Log(),
              HasSubstr(absl::StrCat(" ERROR cannot restore a job: ", broken, ": ")));
  EXPECT_THAT(reshardd_->Log(), HasSubstr(absl::StrCat("; moved to ", broken, ".corrupt")));
  EXPECT_TRUE(std::filesystem::exists(broken + ".corrupt"));
  EXPECT_FALSE(std::filesystem::exists(broken));
  absl::StatusOr<std::vector<v1::Job>> jobs = reshardd_->List();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id(), kJob);
  ExpectExactAfterCatchUp(&workload);
}

// The in-process cases' end: a marker written last reaches `target` (the
// job's only one), then dbs 0 and 1 are compared exactly with the source,
// which holds more than `min_keys`.
void ExpectOneTargetExact(testing::RedisClient& source_client, const testing::RedisServer& target,
                          const engine::TargetSpec& spec, size_t min_keys) {
  ASSERT_TRUE(source_client.CheckedCommand({"SET", "marker", "1"}).ok());
  testing::RedisClient target_client = testing::Connect(target);
  ASSERT_TRUE(target_client.WaitForKey("marker", absl::Seconds(30), "marker").ok());
  absl::StatusOr<std::unique_ptr<engine::KeyFilter>> filter = engine::MakeKeyFilter(spec.filter);
  ASSERT_TRUE(filter.ok());
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckShards(source_client, {{"all", filter->get(), &target_client}}, /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_GT(report->source_keys, min_keys);
}

// In process: a job restored after a restart whose source is down keeps
// retrying (never FAILED), and goes on once the source is back.
TEST(RestoredJobTest, AnUnreachableSourceIsRetriedNotFailed) {
  testing::TempDir dir("restored_job_test");
  const uint16_t source_port = testing::PickFreePort();
  std::unique_ptr<testing::RedisServer> target = testing::StartServer();
  ASSERT_TRUE(target);
  engine::JobSpec spec;
  spec.source.address = absl::StrCat("127.0.0.1:", source_port);
  spec.targets.push_back(testing::MakeTarget("all", {engine::FilterKind::kGlob, "*"},
                                             testing::PickFreePort(), target.get()));
  spec.options.connect_attempts = 1;  // a new job would fail at once
  spec.options.state_dir = dir / "job.state";
  spec.options.restored = true;
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok());
  engine::Job job("job-restored", spec);
  job.Start();
  absl::SleepFor(absl::Seconds(2));
  engine::JobStatus status = job.Snapshot();
  EXPECT_EQ(status.state, engine::JobState::kConnecting) << status.error;
  EXPECT_THAT(status.detail, StartsWith(absl::StrCat("restoring: connecting to source 127.0.0.1:",
                                                     source_port, " (attempt ")));
  EXPECT_THAT(status.detail, HasSubstr("Connection refused"));

  testing::RedisServerOptions options;
  options.port = source_port;
  std::unique_ptr<testing::RedisServer> source = testing::StartServer(options);
  ASSERT_TRUE(source);
  testing::RedisClient source_client = testing::Connect(*source);
  ASSERT_NO_FATAL_FAILURE(FillNumericDataset(source_client, 500));
  status = testing::WaitForState(job, engine::JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, engine::JobState::kStreaming) << status.detail << status.error;
  EXPECT_EQ(status.restore_detail,
            "full sync of every target after a restart: nothing was recorded (reshardd stopped "
            "before the job's first snapshot was complete)");
  ASSERT_NO_FATAL_FAILURE(ExpectOneTargetExact(source_client, *target, spec.targets[0], 500));
}

// In process: options.set_source_backlog grows a source backlog that holds
// less than options.restart_down_time_ms of its writes.
TEST(RestoredJobTest, SetSourceBacklogGrowsASmallBacklog) {
  testing::RedisServerOptions source_options;
  source_options.extra_args = {"--repl-backlog-size", "16kb"};
  std::unique_ptr<testing::RedisServer> source = testing::StartServer(source_options);
  std::unique_ptr<testing::RedisServer> target = testing::StartServer();
  ASSERT_TRUE(source && target);
  engine::JobSpec spec;
  spec.source.address = source->address();
  spec.targets.push_back(testing::MakeTarget("all", {engine::FilterKind::kGlob, "*"},
                                             testing::PickFreePort(), target.get()));
  spec.options.set_source_backlog = true;
  engine::Job job("job-backlog", spec);
  job.Start();
  ASSERT_EQ(testing::WaitForState(job, engine::JobState::kStreaming, absl::Seconds(30)).state,
            engine::JobState::kStreaming);
  Workload workload(source->port(), 512, 400);
  testing::RedisClient source_client = testing::Connect(*source);
  absl::Status set = testing::RedisClient::WaitFor(
      [&] { return !job.Snapshot().source_backlog_advice.empty(); }, absl::Seconds(30),
      "what reshardd did about the source's backlog");
  ASSERT_TRUE(set.ok()) << set;
  engine::JobStatus status = job.Snapshot();
  EXPECT_THAT(status.source_backlog_advice,
              StartsWith("reshardd set the source's repl-backlog-size from 16384 to "));
  absl::StatusOr<engine::RespValue> size =
      source_client.Command({"CONFIG", "GET", "repl-backlog-size"});
  ASSERT_TRUE(size.ok() && size->elements.size() == 2);
  EXPECT_THAT(status.source_backlog_advice, HasSubstr(size->elements[1].str));
  EXPECT_EQ(std::stoull(size->elements[1].str) % (1 << 20), 0u) << "whole MiB";

  workload.Stop();
  ASSERT_NO_FATAL_FAILURE(ExpectOneTargetExact(source_client, *target, spec.targets[0], 0));
}

}  // namespace
}  // namespace reshard::integration
