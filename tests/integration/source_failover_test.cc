// The job follows its source through a failover: a source that reloads its
// dataset (-LOADING) is waited for; set-source to a promoted replica
// continues with PSYNC (+CONTINUE, no new snapshot anywhere). Each case ends
// with every key compared on every target, and the job never FAILED.

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/output/job_printer.h"
#include "client/output/json_writer.h"
#include "engine/job/job.h"
#include "proto/reshard/v1/job_status_convert.h"
#include "tests/integration/split_harness.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace reshard::integration {
namespace {

using engine::SourceFailover;

// Records every state and detail a job publishes, on a thread of its own,
// so that a test can say the job never FAILED on its way.
class JobHistory {
 public:
  explicit JobHistory(const Job& job) : job_(job), thread_([this] { Run(); }) {}
  ~JobHistory() {
    stop_ = true;
    thread_.join();
  }
  bool EverFailed() const {
    absl::MutexLock lock(&mu_);
    return failed_;
  }
  // Whether a published detail contained `text`.
  bool SawDetail(const std::string& text) const {
    absl::MutexLock lock(&mu_);
    for (const std::string& detail : details_) {
      if (absl::StrContains(detail, text)) return true;
    }
    return false;
  }
  std::string Details() const {
    absl::MutexLock lock(&mu_);
    std::string all;
    for (const std::string& detail : details_) absl::StrAppend(&all, detail, "\n");
    return all;
  }

 private:
  void Run() {
    uint64_t seen = 0;
    while (!stop_) {
      JobStatus status = job_.WaitForChange(seen, absl::Milliseconds(100));
      if (status.version == seen) continue;
      seen = status.version;
      absl::MutexLock lock(&mu_);
      if (status.state == JobState::kFailed) failed_ = true;
      details_.insert(status.detail);
    }
  }

  const Job& job_;
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> details_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// The canonical value of `key` in db 0 ("none" when absent).
std::string CanonicalValueOrDie(RedisClient& client, const std::string& key) {
  absl::StatusOr<std::string> value = testing::CanonicalValue(client, key);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : "";
}

// The ids of the replicas connected to `server` (CLIENT LIST TYPE replica).
std::set<std::string> ReplicaClientIds(RedisClient& server) {
  std::set<std::string> ids;
  absl::StatusOr<engine::RespValue> list =
      server.CheckedCommand({"CLIENT", "LIST", "TYPE", "replica"});
  EXPECT_TRUE(list.ok()) << list.status();
  if (!list.ok()) return ids;
  for (absl::string_view line : absl::StrSplit(list->str, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "id=")) continue;
    ids.insert(std::string(line.substr(3, line.find(' ') - 3)));
  }
  return ids;
}

// WriteTraffic on a thread of its own, stopped and joined when it goes out
// of scope (also on an early return of a failed ASSERT).
class TrafficWriter {
 public:
  explicit TrafficWriter(const RedisServer* server)
      : thread_(WriteTraffic, server, &stop_, &rounds_) {}
  ~TrafficWriter() { Stop(); }
  TrafficWriter(const TrafficWriter&) = delete;
  TrafficWriter& operator=(const TrafficWriter&) = delete;
  // Until `batches` more batches than now were written.
  bool WaitForMore(int batches) {
    const int from = rounds_.load();
    return RedisClient::WaitFor([&] { return rounds_.load() >= from + batches; }, absl::Seconds(60),
                                "the writer's batches")
        .ok();
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;  // last: starts once stop_ and rounds_ exist
};

// The snapshot-failover cases: a dataset of this many keys, saved this slowly
// (rdb-key-save-delay, microseconds a key): the job's snapshot of it (with
// the writer's keys) takes 20-30 s, far longer than the test takes to move
// the job (a few hundred keys in).
constexpr int kSlowSnapshotKeys = 2000;
constexpr int kSlowSnapshotKeyDelayUs = 10000;

// N of the failover detail's "was abandoned after N keys", or -1.
int64_t KeysBeforeTheMove(const std::string& detail) {
  const std::string_view marker = "was abandoned after ";
  const size_t at = detail.find(marker);
  if (at == std::string::npos) return -1;
  const size_t from = at + marker.size();
  const size_t end = detail.find(' ', from);
  int64_t keys = -1;
  if (!absl::SimpleAtoi(detail.substr(from, end - from), &keys)) return -1;
  return keys;
}

class SourceFailoverTest : public HalvesTest {
 protected:
  // Waits until `replica` has the source's whole replication offset. A
  // replica still in its first sync says offset 0, as does a master that has
  // not written to its backlog yet: its link must be up first.
  void WaitForReplicaOf(RedisClient& replica) {
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> link =
                          replica.InfoField("replication", "master_link_status");
                      return link.ok() && *link == "up";
                    },
                    absl::Seconds(60), "the replica's link up")
                    .ok());
    const std::string offset = *source_client_->InfoField("replication", "master_repl_offset");
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> at =
                          replica.InfoField("replication", "master_repl_offset");
                      return at.ok() && *at == offset;
                    },
                    absl::Seconds(30), "the replica caught up")
                    .ok());
  }
  // Writes traffic to `server` until at least `batches` more batches passed.
  void WriteBatches(const RedisServer* server, int batches) {
    TrafficWriter writer(server);
    EXPECT_TRUE(writer.WaitForMore(batches));
  }
  // Slows down the source's next BGSAVE (the job's snapshot) to `delay_us`
  // a key, once no fork runs there: a replica's sync still running would make
  // the job's PSYNC wait for its end, and one forked after the CONFIG SET
  // would take as long as the job's.
  void SlowDownTheNextSnapshot(int delay_us) {
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> forked =
                          source_client_->InfoField("persistence", "rdb_bgsave_in_progress");
                      return forked.ok() && *forked == "0";
                    },
                    absl::Seconds(60), "no BGSAVE on the source")
                    .ok());
    ASSERT_TRUE(
        source_client_
            ->CheckedCommand({"CONFIG", "SET", "rdb-key-save-delay", std::to_string(delay_us)})
            .ok());
  }
  // A Sentinel (quorum 1) that watches the source as "mymaster", once it
  // knows `replica` (SENTINEL FAILOVER, and a failover of a dead master, need
  // one). Its config file lives in `dir`.
  std::unique_ptr<RedisServer> StartSentinel(const testing::TempDir& dir,
                                             const RedisServer& replica, int down_after_ms) {
    {
      std::ofstream conf(dir / "sentinel.conf");
      conf << "sentinel monitor mymaster 127.0.0.1 " << source_->port() << " 1\n"
           << "sentinel down-after-milliseconds mymaster " << down_after_ms << "\n"
           << "sentinel failover-timeout mymaster 10000\n";
    }
    testing::RedisServerOptions sentinel_options;
    sentinel_options.config_file = dir / "sentinel.conf";
    sentinel_options.dir = dir.path();
    sentinel_options.extra_args = {"--sentinel"};
    std::unique_ptr<RedisServer> sentinel = StartServer(sentinel_options);
    if (sentinel == nullptr) return nullptr;
    RedisClient s = Connect(*sentinel);
    EXPECT_TRUE(RedisClient::WaitFor(
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
  // The move landed mid-snapshot: the abandoned snapshot had given some
  // keys, and fewer than the dataset filled before the job started.
  static void ExpectMovedMidSnapshot(const SourceFailover& failover) {
    const int64_t keys = KeysBeforeTheMove(failover.detail);
    EXPECT_GT(keys, 0) << failover.detail;
    EXPECT_LT(keys, kSlowSnapshotKeys) << failover.detail;
  }
  // A job that asks `sentinel` for its source (no address in the spec).
  void StartJobThroughSentinel(const RedisServer& sentinel, const std::string& id) {
    spec_.source.address = "";  // the Sentinel's to say
    spec_.source.sentinel =
        engine::SentinelSpec{{sentinel.address()}, "mymaster", engine::Credentials{}};
    spec_.targets.push_back(
        MakeTarget("a", {FilterKind::kRegex, "^[0-4]"}, testing::PickFreePort(), target_a_.get()));
    spec_.targets.push_back(
        MakeTarget("b", {FilterKind::kRegex, "^[5-9]"}, testing::PickFreePort(), target_b_.get()));
    ASSERT_TRUE(engine::ValidateJobSpec(spec_).ok()) << engine::ValidateJobSpec(spec_);
    job_ = std::make_unique<Job>(id, spec_);
    job_->Start();
  }
  // Until the job is in its snapshot and has split some keys of it.
  void WaitUntilInTheSnapshot() {
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      JobStatus now = job_->Snapshot();
                      return now.state == JobState::kSyncing && now.rdb_keys_read > 0;
                    },
                    absl::Seconds(30), "the job in its snapshot")
                    .ok())
        << job_->Snapshot().detail;
  }
  // Until the last failover is no longer pending and the job streams.
  void WaitForFailoverFollowed(const JobHistory& history) {
    ASSERT_TRUE(RedisClient::WaitFor(
                    [&] {
                      JobStatus now = job_->Snapshot();
                      return !now.source_failovers.empty() &&
                             now.source_failovers.back().kind != SourceFailover::Kind::kPending &&
                             now.state == JobState::kStreaming;
                    },
                    absl::Seconds(60), "the failover followed")
                    .ok())
        << history.Details();
  }
  // Until the job has routed everything `server` has written (its
  // master_repl_offset).
  void WaitUntilCaughtUp(RedisClient& server) {
    EXPECT_TRUE(RedisClient::WaitFor(
                    [&] {
                      absl::StatusOr<std::string> offset =
                          server.InfoField("replication", "master_repl_offset");
                      return offset.ok() && job_->Snapshot().source_offset == std::stoull(*offset);
                    },
                    absl::Seconds(30), "the job caught up with the source")
                    .ok());
  }
};

// A source restarted with its RDB loads it for a while: PING answers
// -LOADING. The job waits (the status says so) and continues with PSYNC.
TEST_F(SourceFailoverTest, SourceLoadingItsDatasetIsWaitedFor) {
  testing::RedisServerOptions slow_load;
  // ~1 s of loading: events are served every KiB, each key takes 300 us.
  slow_load.extra_args = {
      "--key-load-delay",       "300", "--loading-process-events-interval-bytes", "1024",
      "--enable-debug-command", "yes"};
  source_ = StartServer(slow_load);
  target_a_ = StartServer();
  target_b_ = StartServer();
  ASSERT_TRUE(source_ && target_a_ && target_b_);
  source_client_.emplace(Connect(*source_));
  FillNumericDataset(*source_client_, 1000);
  ASSERT_TRUE(source_client_->CheckedCommand({"DEBUG", "POPULATE", "4000", "9pop:"}).ok());
  StartJob("loading");
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  JobHistory history(*job_);

  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  WaitUntilCaughtUp(*source_client_);
  // SHUTDOWN SAVE keeps the replication id and offset in the RDB: the
  // restarted source continues the job's stream once it has loaded.
  // (NOW: no wait for replicas to acknowledge a last GETACK.)
  source_client_->Command({"SHUTDOWN", "SAVE", "NOW"}).IgnoreError();
  ASSERT_TRUE(source_->Restart().ok()) << source_->LogTail();
  source_client_.emplace(Connect(*source_));
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    absl::StatusOr<std::string> ok =
                        source_client_->InfoField("stats", "sync_partial_ok");
                    return ok.ok() && *ok == "1";
                  },
                  absl::Seconds(30), "partial resync after loading")
                  .ok())
      << history.Details();
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_EQ(*source_client_->InfoField("stats", "sync_full"), "0");
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  EXPECT_TRUE(history.SawDetail(
      absl::StrCat("waiting for source ", source_->address(), " to load its dataset")))
      << history.Details();
  status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
}

// The replica R of the job's source M is promoted (REPLICAOF NO ONE) after M
// died; set-source points the job at R, which continues its stream with
// PSYNC: R keeps M's replication id as its replid2.
TEST_F(SourceFailoverTest, SetSourceToAPromotedReplicaContinuesWithPartialSync) {
  ASSERT_NO_FATAL_FAILURE(StartServers(3000));
  std::unique_ptr<RedisServer> replica = StartServer();
  ASSERT_TRUE(replica);
  RedisClient r = Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  StartJob("failover");
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  JobHistory history(*job_);

  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 20));
  // The failover: R has everything M wrote, M dies, R is promoted.
  WaitUntilCaughtUp(*source_client_);
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  const std::string m_address = source_->address();
  ASSERT_TRUE(source_->Stop().ok());
  // (M's shutdown sent its replicas a last REPLCONF GETACK.)
  const std::string r_offset = *r.InfoField("replication", "master_repl_offset");
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_TRUE(job_->SetSource(replica->address()).ok());
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    JobStatus now = job_->Snapshot();
                    return !now.source_failovers.empty() &&
                           now.source_failovers.back().kind != SourceFailover::Kind::kPending;
                  },
                  absl::Seconds(30), "the failover followed")
                  .ok())
      << history.Details();

  // Writes go on to R; the old M is gone: R is the source now.
  source_ = std::move(replica);
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 20));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  // reshardd was never a full sync on R.
  EXPECT_EQ(*source_client_->InfoField("stats", "sync_full"), "0");
  EXPECT_EQ(*source_client_->InfoField("stats", "sync_partial_ok"), "1");
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  EXPECT_EQ(status.source_address, source_->address());
  ASSERT_EQ(status.source_failovers.size(), 1u);
  const SourceFailover& failover = status.source_failovers[0];
  EXPECT_EQ(failover.from, m_address);
  EXPECT_EQ(failover.to, source_->address());
  EXPECT_EQ(failover.kind, SourceFailover::Kind::kPartial) << failover.detail;
  EXPECT_EQ(failover.offset, std::stoull(r_offset));
  EXPECT_TRUE(absl::StrContains(failover.detail, "+CONTINUE")) << failover.detail;
  // Only the targets' own snapshots: none was needed again.
  for (const engine::TargetStatus& target : status.targets) EXPECT_EQ(target.resyncs, 0u);

  // A cutover now pauses the writes on R, the source the job follows, not
  // on M (the spec's address, stopped): writes to R go on until the pause,
  // and the targets then hold exactly what R holds.
  TrafficWriter writer(source_.get());
  ASSERT_TRUE(writer.WaitForMore(10));
  engine::CutoverOptions options;
  options.max_write_pause = absl::Seconds(20);
  options.lag_threshold_bytes = 256 << 10;
  options.promote = true;
  options.leave_source_paused = true;  // R stays paused while the test compares
  ASSERT_TRUE(job_->Cutover(options).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  status = job_->Snapshot();
  while (!(status.cutover.has_value() && status.cutover->state != engine::CutoverState::kRunning) &&
         absl::Now() < deadline) {
    status = job_->WaitForChange(status.version, absl::Milliseconds(100));
  }
  ASSERT_TRUE(status.cutover.has_value());
  ASSERT_EQ(status.cutover->state, engine::CutoverState::kDone) << status.cutover->error;
  EXPECT_EQ(status.cutover->paused_address, source_->address());
  EXPECT_NE(spec_.source.address, source_->address());  // the spec still names M
  auto filter_a = engine::MakeKeyFilter(spec_.targets[0].filter);
  auto filter_b = engine::MakeKeyFilter(spec_.targets[1].filter);
  ASSERT_TRUE(filter_a.ok() && filter_b.ok());
  absl::StatusOr<testing::ShardCheckReport> check = testing::CheckShards(
      *source_client_, {{"a", filter_a->get(), &*a_}, {"b", filter_b->get(), &*b_}},
      /*db_count=*/2);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->ok()) << check->Summary();
  ASSERT_TRUE(source_client_->CheckedCommand({"CLIENT", "UNPAUSE"}).ok());
  writer.Stop();
}

// set-source to a server with a history of its own (and other data): the
// stream cannot continue, so every target gets a new snapshot of the new
// source; what the old source had and the new one has not is gone from them.
TEST_F(SourceFailoverTest, SetSourceToAnUnrelatedServerResyncsEveryTarget) {
  ASSERT_NO_FATAL_FAILURE(StartServers(1000));
  std::unique_ptr<RedisServer> other = StartServer();
  ASSERT_TRUE(other);
  RedisClient o = Connect(*other);
  FillNumericDataset(o, 600);
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(*source_client_, {{"SET", "0old:a", "1"},
                                                                      {"SET", "7old:b", "2"},
                                                                      {"SELECT", "1"},
                                                                      {"SADD", "3old:c", "x"},
                                                                      {"SELECT", "0"}}));
  StartJob("unrelated");
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  JobHistory history(*job_);
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  WaitUntilCaughtUp(*source_client_);

  const std::string old_replid = *source_client_->InfoField("replication", "master_replid");
  ASSERT_TRUE(job_->SetSource(other->address()).ok());
  // Writes to the new source while the targets resync.
  ASSERT_NO_FATAL_FAILURE(WriteBatches(other.get(), 10));
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    JobStatus now = job_->Snapshot();
                    if (now.source_failovers.empty()) return false;
                    if (now.source_failovers.back().kind == SourceFailover::Kind::kPending) {
                      return false;
                    }
                    return now.state == JobState::kStreaming && now.targets[0].resyncs == 1 &&
                           now.targets[1].resyncs == 1;
                  },
                  absl::Seconds(60), "every target resynced from the new source")
                  .ok())
      << history.Details() << job_->Snapshot().detail;
  source_ = std::move(other);
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  for (RedisClient* target : {&*a_, &*b_}) {
    EXPECT_EQ(CanonicalValueOrDie(*target, "0old:a"), "none");
    EXPECT_EQ(CanonicalValueOrDie(*target, "7old:b"), "none");
  }
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  ASSERT_EQ(status.source_failovers.size(), 1u);
  const SourceFailover& failover = status.source_failovers[0];
  EXPECT_EQ(failover.kind, SourceFailover::Kind::kFull);
  const std::string new_replid = *source_client_->InfoField("replication", "master_replid");
  // Why: the new source's replication id is not the one followed.
  EXPECT_TRUE(absl::StrContains(failover.detail,
                                absl::StrCat("does not continue replication id ", old_replid)))
      << failover.detail;
  EXPECT_TRUE(absl::StrContains(failover.detail,
                                absl::StrCat("the source's replication id is ", new_replid)))
      << failover.detail;
  EXPECT_TRUE(absl::StrContains(failover.detail, "full resync of every target")) << failover.detail;
  EXPECT_TRUE(history.SawDetail("after a failover")) << history.Details();
}

// A job through a Sentinel (quorum 1) that watches the source M and its
// replica R: no source address in the spec, the Sentinel names M; SENTINEL
// FAILOVER promotes R, the Sentinel's +switch-master moves the job to R,
// which continues its stream with PSYNC.
TEST_F(SourceFailoverTest, SentinelFailoverIsFollowedWithPartialSync) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000));
  std::unique_ptr<RedisServer> replica = StartServer();
  ASSERT_TRUE(replica);
  RedisClient r = Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  testing::TempDir dir("sentinel");
  std::unique_ptr<RedisServer> sentinel = StartSentinel(dir, *replica, 5000);
  ASSERT_TRUE(sentinel);
  RedisClient s = Connect(*sentinel);
  ASSERT_NO_FATAL_FAILURE(StartJobThroughSentinel(*sentinel, "sentinel"));
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  EXPECT_EQ(status.source_address, source_->address());
  JobHistory history(*job_);

  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 20));
  // A graceful failover, as Redis's own FAILOVER does it: M's writes (the
  // Sentinel's hello PUBLISHes and replication PINGs too) pause, so that
  // nothing reaches reshardd that R has not. Without it the job may be ahead
  // of R by a hello message: R cannot continue that, and the job resyncs
  // every target instead (SetSourceToAnUnrelatedServerResyncsEveryTarget).
  ASSERT_TRUE(source_client_->CheckedCommand({"CLIENT", "PAUSE", "10000", "WRITE"}).ok());
  WaitUntilCaughtUp(*source_client_);
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  const std::string m_address = source_->address();
  ASSERT_TRUE(s.CheckedCommand({"SENTINEL", "FAILOVER", "mymaster"}).ok());
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    JobStatus now = job_->Snapshot();
                    return !now.source_failovers.empty() &&
                           now.source_failovers.back().kind != SourceFailover::Kind::kPending;
                  },
                  absl::Seconds(30), "the failover followed")
                  .ok())
      << history.Details();

  // M is R's replica now; writes go to R.
  source_client_->Command({"CLIENT", "UNPAUSE"}).IgnoreError();
  std::unique_ptr<RedisServer> old_master = std::move(source_);
  source_ = std::move(replica);
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 20));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  EXPECT_EQ(status.source_address, source_->address());
  ASSERT_EQ(status.source_failovers.size(), 1u);
  const SourceFailover& failover = status.source_failovers[0];
  EXPECT_EQ(failover.from, m_address);
  EXPECT_EQ(failover.to, source_->address());
  EXPECT_EQ(failover.kind, SourceFailover::Kind::kPartial) << failover.detail;
  EXPECT_TRUE(absl::StrContains(failover.detail, "+CONTINUE")) << failover.detail;
  // reshardd (and the demoted M) continued on R: no full sync there.
  EXPECT_EQ(*source_client_->InfoField("stats", "sync_full"), "0");
  for (const engine::TargetStatus& target : status.targets) EXPECT_EQ(target.resyncs, 0u);
}

// set-source while the job takes its snapshot of M (slowed down: 10 ms a
// key, half a minute for the whole): the snapshot is abandoned and taken again
// from the new source R, a promoted replica of M; every target gets R's
// snapshot (one resync each), the failover is FULL and says why. Writes go
// to M before and during the snapshot, to R after.
TEST_F(SourceFailoverTest, SetSourceDuringTheSnapshotTakesItAgainFromTheNewMaster) {
  ASSERT_NO_FATAL_FAILURE(StartServers(kSlowSnapshotKeys));
  std::unique_ptr<RedisServer> replica = StartServer();
  ASSERT_TRUE(replica);
  RedisClient r = Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  ASSERT_NO_FATAL_FAILURE(SlowDownTheNextSnapshot(kSlowSnapshotKeyDelayUs));
  TrafficWriter writer(source_.get());
  ASSERT_TRUE(writer.WaitForMore(5));
  StartJob("snapshot-failover");
  JobHistory history(*job_);
  ASSERT_NO_FATAL_FAILURE(WaitUntilInTheSnapshot());
  ASSERT_TRUE(writer.WaitForMore(5));
  writer.Stop();
  // The failover: R has everything M wrote, R is promoted, M dies.
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  const std::string m_address = source_->address();
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_EQ(job_->Snapshot().state, JobState::kSyncing);  // M's snapshot takes ~30 s
  ASSERT_TRUE(job_->SetSource(replica->address()).ok());
  ASSERT_TRUE(source_->Kill().ok());
  source_ = std::move(replica);
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WaitForFailoverFollowed(history));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  EXPECT_TRUE(history.SawDetail(
      absl::StrCat("a failover during the snapshot: the snapshot from ", m_address)))
      << history.Details();
  JobStatus status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  EXPECT_EQ(status.source_address, source_->address());
  ASSERT_EQ(status.source_failovers.size(), 1u);
  const SourceFailover& failover = status.source_failovers[0];
  EXPECT_EQ(failover.from, m_address);
  EXPECT_EQ(failover.to, source_->address());
  EXPECT_EQ(failover.kind, SourceFailover::Kind::kFull) << failover.detail;
  EXPECT_TRUE(absl::StrContains(
      failover.detail,
      absl::StrCat("full resync of every target: a failover during the snapshot: the snapshot "
                   "from ",
                   m_address, " was abandoned after ")))
      << failover.detail;
  EXPECT_TRUE(absl::StrContains(failover.detail,
                                absl::StrCat("; a new snapshot from ", source_->address())))
      << failover.detail;
  ASSERT_NO_FATAL_FAILURE(ExpectMovedMidSnapshot(failover));
  // Every target was cut off mid-snapshot and got R's snapshot instead.
  for (const engine::TargetStatus& target : status.targets) EXPECT_EQ(target.resyncs, 1u);
  EXPECT_EQ(*source_client_->InfoField("stats", "sync_full"), "1");  // reshardd's
}

// The job's snapshot waits on a stopped target (b's share no longer fits its
// queue), not on the source's socket, when set-source names the promoted
// replica R; M stays up. The snapshot from M is abandoned at once, not read
// to its end first, and R's snapshot replaces it once b is back.
TEST_F(SourceFailoverTest, SetSourceWhileTheSnapshotWaitsOnATargetTakesItAgain) {
  ASSERT_NO_FATAL_FAILURE(StartServers(kSlowSnapshotKeys));
  // ~40 MB for target b alone: more than its queue and the socket buffers.
  // (Random letters: the RDB's LZF would shrink repeated ones to nothing.)
  std::mt19937 random(7);
  std::vector<std::vector<std::string>> big;
  for (int i = 0; i < 400; ++i) {
    std::string value(100000, 'a');
    for (char& c : value) c = static_cast<char>('a' + random() % 26);
    big.push_back({"SET", absl::StrCat("9big:", i), std::move(value)});
  }
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(*source_client_, big));
  std::unique_ptr<RedisServer> replica = StartServer();
  ASSERT_TRUE(replica);
  RedisClient r = Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  ASSERT_NO_FATAL_FAILURE(SlowDownTheNextSnapshot(1000));
  // A spool of 4 MiB (options.spool_max_bytes): the snapshot waits once
  // half of it waits for b (with the default 1 GiB it would spool b's share).
  spec_.options.spool_max_bytes = spec_.options.max_target_queue_bytes;
  StartJob("snapshot-waits-on-a-target");
  JobHistory history(*job_);
  ASSERT_NO_FATAL_FAILURE(WaitUntilInTheSnapshot());
  ASSERT_EQ(::kill(target_b_->pid(), SIGSTOP), 0);
  // Until the snapshot stands still for a second with b's share queued: it
  // waits for b.
  uint64_t keys_read = 0;
  uint64_t b_queued = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60);;) {
    ASSERT_LT(absl::Now(), deadline) << "the snapshot never waited for target b";
    const uint64_t before = job_->Snapshot().rdb_keys_read;
    absl::SleepFor(absl::Seconds(1));
    const JobStatus now = job_->Snapshot();
    keys_read = now.rdb_keys_read;
    b_queued = now.targets[1].spool_bytes;
    if (keys_read == before && b_queued > (1u << 20)) break;
  }
  ASSERT_EQ(job_->Snapshot().state, JobState::kSyncing);
  ASSERT_LT(keys_read, static_cast<uint64_t>(kSlowSnapshotKeys + 400));
  const std::string m_address = source_->address();
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_TRUE(job_->SetSource(replica->address()).ok());
  // Abandoned while b is still stopped: the wait on b did not hold the move.
  EXPECT_TRUE(RedisClient::WaitFor(
                  [&] {
                    JobStatus now = job_->Snapshot();
                    return !now.source_failovers.empty() &&
                           now.source_failovers.back().kind == SourceFailover::Kind::kFull;
                  },
                  absl::Seconds(20), "the snapshot from M abandoned")
                  .ok())
      << history.Details();
  ASSERT_EQ(::kill(target_b_->pid(), SIGCONT), 0);
  std::unique_ptr<RedisServer> old_master = std::move(source_);
  source_ = std::move(replica);
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WaitForFailoverFollowed(history));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  JobStatus status = job_->Snapshot();
  ASSERT_EQ(status.source_failovers.size(), 1u);
  const SourceFailover& failover = status.source_failovers[0];
  EXPECT_EQ(failover.from, m_address);
  EXPECT_EQ(failover.to, source_->address());
  EXPECT_EQ(failover.kind, SourceFailover::Kind::kFull) << failover.detail;
  EXPECT_TRUE(absl::StrContains(
      failover.detail, absl::StrCat("the snapshot from ", m_address, " was abandoned after ",
                                    keys_read, " keys (asked for (set-source))")))
      << failover.detail;
  EXPECT_EQ(*source_client_->InfoField("stats", "sync_full"), "1");  // reshardd's
  ASSERT_TRUE(old_master->Stop().ok());
}

// The source M dies in the middle of the job's snapshot (slowed down); the
// Sentinel promotes its replica R: the job follows the Sentinel to R and
// takes the snapshot again there instead of failing.
TEST_F(SourceFailoverTest, SourceDyingDuringTheSnapshotIsFollowedThroughTheSentinel) {
  ASSERT_NO_FATAL_FAILURE(StartServers(kSlowSnapshotKeys));
  std::unique_ptr<RedisServer> replica = StartServer();
  ASSERT_TRUE(replica);
  RedisClient r = Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  testing::TempDir dir("sentinel");
  std::unique_ptr<RedisServer> sentinel = StartSentinel(dir, *replica, 1000);
  ASSERT_TRUE(sentinel);
  const std::set<std::string> r_client_ids = ReplicaClientIds(*source_client_);
  ASSERT_EQ(r_client_ids.size(), 1u);
  ASSERT_NO_FATAL_FAILURE(SlowDownTheNextSnapshot(kSlowSnapshotKeyDelayUs));
  TrafficWriter writer(source_.get());
  ASSERT_TRUE(writer.WaitForMore(5));
  ASSERT_NO_FATAL_FAILURE(StartJobThroughSentinel(*sentinel, "sentinel-snapshot"));
  JobHistory history(*job_);
  ASSERT_NO_FATAL_FAILURE(WaitUntilInTheSnapshot());
  ASSERT_TRUE(writer.WaitForMore(5));
  writer.Stop();
  ASSERT_NO_FATAL_FAILURE(WaitForReplicaOf(r));
  const std::string m_address = source_->address();
  ASSERT_EQ(job_->Snapshot().state, JobState::kSyncing);
  // M dies: first its link to reshardd (a killed Redis's fork child keeps
  // the socket open while it writes its RDB, so SIGKILL alone may leave the
  // link silent), then M itself. The Sentinel sees M down after 1 s and
  // promotes R; meanwhile the job waits for it.
  for (const std::string& id : ReplicaClientIds(*source_client_)) {
    if (r_client_ids.count(id) == 0) {
      ASSERT_TRUE(source_client_->CheckedCommand({"CLIENT", "KILL", "ID", id}).ok());
    }
  }
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    return absl::StrContains(
                        job_->Snapshot().detail,
                        absl::StrCat("source ", m_address, " lost during the snapshot"));
                  },
                  absl::Seconds(30), "the job waits for the Sentinel")
                  .ok())
      << history.Details();
  ASSERT_TRUE(source_->Kill().ok());
  source_ = std::move(replica);
  ASSERT_NO_FATAL_FAILURE(WaitForFailoverFollowed(history));
  // (A Sentinel that promotes a replica kills its normal clients.)
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  JobStatus status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  EXPECT_EQ(status.source_address, source_->address());
  ASSERT_EQ(status.source_failovers.size(), 1u);
  const SourceFailover& failover = status.source_failovers[0];
  EXPECT_EQ(failover.from, m_address);
  EXPECT_EQ(failover.to, source_->address());
  EXPECT_EQ(failover.kind, SourceFailover::Kind::kFull) << failover.detail;
  EXPECT_TRUE(absl::StrContains(
      failover.detail,
      absl::StrCat("full resync of every target: a failover during the snapshot: the snapshot "
                   "from ",
                   m_address, " was abandoned after ")))
      << failover.detail;
  ASSERT_NO_FATAL_FAILURE(ExpectMovedMidSnapshot(failover));
  for (const engine::TargetStatus& target : status.targets) EXPECT_EQ(target.resyncs, 1u);
}

// A cross-target write (SUNIONSTORE into target a from a set on target b)
// whose key copy waits on M when the job is moved to R, a promoted replica
// of M: M pauses every client (CLIENT PAUSE ALL in the write's own
// transaction, for 60 s), so the copy cannot be answered there. The copy is
// read again from R (the current master), the job catches up long before
// M's pause would end, and M then dies without failing anything.
TEST_F(SourceFailoverTest, KeyCopiesInFlightAtAFailoverAreReadAgainFromTheNewMaster) {
  ASSERT_NO_FATAL_FAILURE(StartServers(1000));
  std::unique_ptr<RedisServer> replica = StartServer();
  ASSERT_TRUE(replica);
  RedisClient r = Connect(*replica);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(source_->port())}).ok());
  StartJob("copies");
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  JobHistory history(*job_);
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 5));
  ASSERT_TRUE(source_client_->CheckedCommand({"SELECT", "0"}).ok());
  ASSERT_TRUE(source_client_->CheckedCommand({"SADD", "5:src", "x", "y", "z"}).ok());
  // A first copy opens the key copies' connection to M.
  ASSERT_TRUE(source_client_->CheckedCommand({"SUNIONSTORE", "0:warm", "5:src"}).ok());
  a_.emplace(Connect(*target_a_));
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    absl::StatusOr<engine::RespValue> card = a_->Command({"SCARD", "0:warm"});
                    return card.ok() && card->integer == 3;
                  },
                  absl::Seconds(30), "the first copy on target a")
                  .ok());
  ASSERT_NO_FATAL_FAILURE(
      testing::RunWithoutErrors(*source_client_, {{"MULTI"},
                                                  {"SUNIONSTORE", "0:dst", "5:src"},
                                                  {"CLIENT", "PAUSE", "60000", "ALL"},
                                                  {"EXEC"}}));
  // R has the write; the job has it too, its copy of 0:dst waiting on M.
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    absl::StatusOr<engine::RespValue> card = r.Command({"SCARD", "0:dst"});
                    return card.ok() && card->integer == 3;
                  },
                  absl::Seconds(30), "the replica has the write")
                  .ok());
  const absl::Time moved = absl::Now();
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_TRUE(job_->SetSource(replica->address()).ok());
  ASSERT_NO_FATAL_FAILURE(WaitForFailoverFollowed(history));
  // Caught up with R: the copy came from R, not from M (paused for a minute).
  ASSERT_NO_FATAL_FAILURE(WaitUntilCaughtUp(r));
  EXPECT_LT(absl::Now() - moved, absl::Seconds(30));
  ASSERT_TRUE(source_->Kill().ok());
  source_ = std::move(replica);
  source_client_.emplace(Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(WriteBatches(source_.get(), 10));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  a_.emplace(Connect(*target_a_));
  ASSERT_TRUE(a_->CheckedCommand({"SELECT", "0"}).ok());
  ASSERT_TRUE(source_client_->CheckedCommand({"SELECT", "0"}).ok());
  EXPECT_EQ(CanonicalValueOrDie(*source_client_, "0:dst"), "set:x\\x1fy\\x1fz");
  EXPECT_EQ(CanonicalValueOrDie(*a_, "0:dst"), CanonicalValueOrDie(*source_client_, "0:dst"));
  EXPECT_FALSE(history.EverFailed()) << history.Details();
  status = job_->Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.detail;
  ASSERT_EQ(status.source_failovers.size(), 1u);
  EXPECT_EQ(status.source_failovers[0].kind, SourceFailover::Kind::kPartial)
      << status.source_failovers[0].detail;
  uint64_t copied = 0;
  for (const engine::TargetStatus& target : status.targets) copied += target.keys_materialized;
  EXPECT_GE(copied, 1u);
}

// A job attached to a replica R of the master M (no fork on M) splits
// exactly, and its cutover pauses the writes on M, found from R's INFO
// replication: the targets then hold exactly what M holds, writes to M
// going on until the pause.
TEST_F(SourceFailoverTest, JobOnAReplicaCutsOverPausingItsMaster) {
  ASSERT_NO_FATAL_FAILURE(StartServers(2000));
  std::unique_ptr<RedisServer> master = std::move(source_);
  source_ = StartServer();
  ASSERT_TRUE(source_);
  RedisClient r = Connect(*source_);
  ASSERT_TRUE(r.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(master->port())}).ok());
  ASSERT_TRUE(RedisClient::WaitFor(
                  [&] {
                    absl::StatusOr<std::string> link =
                        r.InfoField("replication", "master_link_status");
                    return link.ok() && *link == "up";
                  },
                  absl::Seconds(30), "the replica's link up")
                  .ok());
  StartJob("on-replica");
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  // The status says the source is a replica, and of which master (its INFO
  // replication, polled every second).
  ASSERT_TRUE(RedisClient::WaitFor([&] { return !job_->Snapshot().source_role.empty(); },
                                   absl::Seconds(30), "the source's role known")
                  .ok());
  status = job_->Snapshot();
  EXPECT_EQ(status.source_role, "replica");
  EXPECT_EQ(status.source_master_address, master->address());
  EXPECT_EQ(status.source_master_link_status, "up");
  // ... in GetJob's reply, and in reshardctl status (text and json).
  const v1::Job proto = api::JobToProto("on-replica", spec_, status);
  EXPECT_EQ(proto.status().source_role(), "replica");
  EXPECT_EQ(proto.status().source_master_address(), master->address());
  EXPECT_EQ(proto.status().source_master_link_status(), "up");
  std::ostringstream text;
  client::PrintJob(proto, /*wide=*/false, text);
  EXPECT_TRUE(absl::StrContains(text.str(), absl::StrCat("\n  role:     replica of ",
                                                         master->address(), " (master link up)\n")))
      << text.str();
  const std::string json = client::MessageToJson(proto, /*multi_line=*/false);
  EXPECT_TRUE(absl::StrContains(json, "\"source_role\":\"replica\"")) << json;
  EXPECT_TRUE(absl::StrContains(
      json, absl::StrCat("\"source_master_address\":\"", master->address(), "\"")))
      << json;
  EXPECT_TRUE(absl::StrContains(json, "\"source_master_link_status\":\"up\"")) << json;
  RedisClient m = Connect(*master);
  // The job is R's replica, not M's: no fork on M.
  EXPECT_EQ(*m.InfoField("stats", "sync_full"), "1");  // R's own

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, master.get(), &stop, &rounds);
  ASSERT_TRUE(RedisClient::WaitFor([&] { return rounds.load() >= 20; }, absl::Seconds(30)).ok());
  engine::CutoverOptions options;
  options.max_write_pause = absl::Seconds(20);
  options.lag_threshold_bytes = 256 << 10;
  options.promote = true;
  options.leave_source_paused = true;  // M stays paused while the test compares
  ASSERT_TRUE(job_->Cutover(options).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  status = job_->Snapshot();
  while (!(status.cutover.has_value() && status.cutover->state != engine::CutoverState::kRunning) &&
         absl::Now() < deadline) {
    status = job_->WaitForChange(status.version, absl::Milliseconds(100));
  }
  stop = true;
  ASSERT_TRUE(status.cutover.has_value());
  ASSERT_EQ(status.cutover->state, engine::CutoverState::kDone) << status.cutover->error;
  EXPECT_EQ(status.cutover->paused_address, master->address());
  // Every write M took before its pause is on the targets.
  a_.emplace(Connect(*target_a_));
  b_.emplace(Connect(*target_b_));
  auto filter_a = engine::MakeKeyFilter(spec_.targets[0].filter);
  auto filter_b = engine::MakeKeyFilter(spec_.targets[1].filter);
  ASSERT_TRUE(filter_a.ok() && filter_b.ok());
  absl::StatusOr<testing::ShardCheckReport> check = testing::CheckShards(
      m, {{"a", filter_a->get(), &*a_}, {"b", filter_b->get(), &*b_}}, /*db_count=*/2);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->ok()) << check->Summary();
  ASSERT_TRUE(m.CheckedCommand({"CLIENT", "UNPAUSE"}).ok());
  writer.join();
  EXPECT_GT(rounds.load(), 20);
  source_client_.emplace(Connect(*source_));
}

}  // namespace
}  // namespace reshard::integration
