// Cutover end to end (engine::Job::Cutover): a split job under write traffic
// is cut over with a measured write pause and its managed targets promoted:
// the job is DONE, the targets are masters holding every key, and a
// verification finds no problem. A target that stalls during the pause makes
// the cutover roll back: the source takes writes again within the pause
// bound and the job streams on. A Redis 6.0 source (no CLIENT PAUSE WRITE,
// no CLIENT UNPAUSE) is paused whole for exactly the bound.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/job/key_verifier.h"
#include "tests/integration/split_harness.h"
#include "tests/support/server_binaries.h"

namespace reshard::integration {
namespace {

using engine::CutoverOptions;
using engine::CutoverReport;
using engine::CutoverState;
using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// About 5k writes/s in both dbs and both halves (SET with and without an
// expiry, INCR, HSET, DEL) until *stop or an error. Each pipeline's latency
// goes to *max_ms: a write held by the source's pause shows there.
void PacedWrites(uint16_t port, std::atomic<bool>* stop, std::atomic<int>* writes,
                 std::atomic<double>* max_ms) {
  absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port);
  if (!client.ok()) return;
  for (int r = 0; !stop->load(); ++r) {
    std::vector<std::vector<std::string>> commands;
    for (int j = 0; j < 50; ++j) {
      int i = (r * 50 + j) % 3000;
      std::string key = absl::StrCat(i % 10, ":w:", i);
      commands.push_back({"SELECT", std::to_string(j % 2)});
      if (j % 3 == 0) {
        commands.push_back({"SET", key, absl::StrCat("v", r), "PX", "600000"});
      } else if (j % 3 == 1) {
        commands.push_back({"HSET", key + ":h", "f", absl::StrCat(r)});
      } else {
        commands.push_back({"INCR", absl::StrCat(i % 10, ":w:counter")});
      }
      if (j % 10 == 0) commands.push_back({"DEL", absl::StrCat((i + 7) % 10, ":w:", i + 7)});
    }
    Clock::time_point start = Clock::now();
    if (!client->Pipeline(commands).ok()) return;
    double ms = MillisSince(start);
    if (ms > max_ms->load()) max_ms->store(ms);
    *writes += 50;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The job's status once its cutover has ended (DONE or rolled back).
JobStatus WaitForCutover(Job& job, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  JobStatus status = job.Snapshot();
  while (!(status.cutover.has_value() && status.cutover->state != CutoverState::kRunning) &&
         absl::Now() < deadline) {
    status = job.WaitForChange(status.version, absl::Milliseconds(100));
  }
  return status;
}

class CutoverTest : public HalvesTest {
 protected:
  void StartStreamingJob(int keys, const std::string& id) {
    ASSERT_NO_FATAL_FAILURE(StartServers(keys));
    StartJob(id);
    JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
    ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  }

  // Both targets are masters holding exactly their half of the source.
  void ExpectPromotedExactHalves() {
    a_.emplace(Connect(*target_a_));
    b_.emplace(Connect(*target_b_));
    EXPECT_EQ(*a_->InfoField("replication", "role"), "master");
    EXPECT_EQ(*b_->InfoField("replication", "role"), "master");
    auto filter_a = engine::MakeKeyFilter(spec_.targets[0].filter);
    auto filter_b = engine::MakeKeyFilter(spec_.targets[1].filter);
    ASSERT_TRUE(filter_a.ok() && filter_b.ok());
    absl::StatusOr<testing::ShardCheckReport> check = testing::CheckShards(
        *source_client_, {{"a", filter_a->get(), &*a_}, {"b", filter_b->get(), &*b_}}, 2);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_TRUE(check->ok()) << check->Summary();
    report_ = *check;
  }
};

TEST_F(CutoverTest, UnderWritesPromotesExactTargetsThenVerifiesClean) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob(4000, "cutover"));
  // Only a streaming job is cut over.
  ASSERT_TRUE(job_->Pause().ok());
  ASSERT_EQ(WaitForState(*job_, JobState::kPaused, absl::Seconds(30)).state, JobState::kPaused);
  EXPECT_EQ(job_->Cutover({}).message(),
            "job cutover is PAUSED; only a STREAMING job can be cut over");
  ASSERT_TRUE(job_->Resume().ok());
  ASSERT_EQ(WaitForState(*job_, JobState::kStreaming, absl::Seconds(30)).state,
            JobState::kStreaming);

  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::atomic<double> max_ms{0};
  std::thread writer(PacedWrites, source_->port(), &stop, &writes, &max_ms);
  while (writes.load() < 5000) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  // The source stays paused, as for a switch of the clients: what the test
  // compares is what the targets got. A wide bound: the machine is shared.
  CutoverOptions options;
  options.max_write_pause = absl::Seconds(20);
  options.lag_threshold_bytes = 256 << 10;
  options.promote = true;
  options.leave_source_paused = true;
  ASSERT_TRUE(job_->Cutover(options).ok());
  EXPECT_EQ(job_->Cutover(options).message(), "job cutover: a cutover is already running");
  JobStatus status = WaitForCutover(*job_, absl::Seconds(60));
  // Left paused, the source holds the writer's next round (it writes every
  // 10 ms) until the test unpauses it.
  const int writes_at_done = writes.load();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(writes.load(), writes_at_done) << "writes went on on a source left paused";
  stop = true;
  ASSERT_TRUE(status.cutover.has_value());
  const CutoverReport& report = *status.cutover;
  ASSERT_EQ(report.state, CutoverState::kDone) << report.error;
  EXPECT_EQ(WaitForState(*job_, JobState::kDone, absl::Seconds(30)).state, JobState::kDone);
  std::cout << "write pause " << report.write_pause_ms << " ms; " << report.steps[2] << "\n";
  EXPECT_EQ(report.pause_mode, "WRITE");
  EXPECT_TRUE(report.source_left_paused);
  EXPECT_GT(report.write_pause_ms, 0);
  EXPECT_LT(report.write_pause_ms, 20000);
  EXPECT_GT(report.final_offset, 0u);
  ASSERT_EQ(report.steps.size(), 5u);
  EXPECT_TRUE(absl::StartsWith(report.steps[1],
                               "2 pause: CLIENT PAUSE 20000 WRITE; final source "
                               "offset "))
      << report.steps[1];
  EXPECT_TRUE(absl::StartsWith(report.steps[2], absl::StrCat("3 drain: every target applied "
                                                             "source offset ",
                                                             report.final_offset)))
      << report.steps[2];
  EXPECT_EQ(report.steps[3], "4 promote: REPLICAOF NO ONE, role:master on 'a', 'b'");
  EXPECT_TRUE(absl::StartsWith(status.detail, "cut over at source offset ")) << status.detail;

  ASSERT_NO_FATAL_FAILURE(ExpectPromotedExactHalves());
  ASSERT_EQ(report.targets.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(report.targets[i].promoted);
    EXPECT_EQ(report.targets[i].keys, report_.keys_per_target[i]) << i;
    EXPECT_GE(report.targets[i].source_acked_offset, report.final_offset);
  }
  // After DONE a full verification finds nothing: the job no longer streams,
  // so a difference would be final at once.
  engine::VerifyOptions verify;
  verify.rate_keys_per_second = 0;
  absl::StatusOr<engine::VerifyReport> verified = engine::VerifyJobData(spec_, verify);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->state, engine::VerifyState::kDone) << verified->error;
  EXPECT_EQ(verified->problem_count(), 0u);
  EXPECT_EQ(verified->unsettled, 0u);
  EXPECT_EQ(verified->keys_checked, report_.source_keys);

  ASSERT_TRUE(source_client_->CheckedCommand({"CLIENT", "UNPAUSE"}).ok());
  writer.join();
  EXPECT_EQ(writes.load(), writes_at_done + 50) << "the held round went through once unpaused";
}

TEST_F(CutoverTest, StalledTargetRollsBackAndTheJobStreamsOn) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob(1000, "cutover-stall"));
  a_.emplace(Connect(*target_a_));
  b_.emplace(Connect(*target_b_));
  WaitForMarkers(*source_client_, {&*a_, &*b_}, {"0:before", "5:before"});
  ASSERT_EQ(WaitForState(*job_, JobState::kStreaming, absl::Seconds(30)).state,
            JobState::kStreaming);
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::atomic<double> max_ms{0};
  std::thread writer(PacedWrites, source_->port(), &stop, &writes, &max_ms);
  while (writes.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(kill(target_b_->pid(), SIGSTOP), 0);

  CutoverOptions options;
  options.max_write_pause = absl::Seconds(1);
  options.promote = true;
  options.lag_wait_timeout = absl::Seconds(5);
  ASSERT_TRUE(job_->Cutover(options).ok());
  JobStatus status = WaitForCutover(*job_, absl::Seconds(30));
  // The source takes writes at once.
  Clock::time_point set_start = Clock::now();
  absl::StatusOr<engine::RespValue> set = source_client_->CheckedCommand({"SET", "0:after", "y"});
  double set_ms = MillisSince(set_start);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  writer.join();
  ASSERT_EQ(kill(target_b_->pid(), SIGCONT), 0);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_LT(set_ms, 200);
  ASSERT_TRUE(status.cutover.has_value());
  const CutoverReport& report = *status.cutover;
  ASSERT_EQ(report.state, CutoverState::kRolledBack);
  // No write waited longer than the bound (and the pipeline's own time).
  EXPECT_LE(report.write_pause_ms, 1000);
  EXPECT_LT(max_ms.load(), 1000 + 250) << "a write was held past the pause bound";
  std::cout << "rolled back after a " << report.write_pause_ms << " ms pause; longest write "
            << max_ms.load() << " ms\n";
  const std::string& message = report.error;
  EXPECT_TRUE(absl::StartsWith(
      message,
      absl::StrCat("cutover step 3 (wait for every target to apply offset ", report.final_offset,
                   "): not within the 1000 ms write pause: 'b' "
                   "applied ")))
      << message;
  EXPECT_FALSE(absl::StrContains(message, "'a'")) << message;
  EXPECT_TRUE(absl::EndsWith(message, "; source unpaused")) << message;
  ASSERT_EQ(report.steps.size(), 2u);

  // Nothing was promoted and the job streams on: every write reaches the
  // targets, and they hold exactly their halves.
  EXPECT_EQ(*Connect(*target_a_).InfoField("replication", "role"), "slave");
  EXPECT_EQ(*b_->InfoField("replication", "role"), "slave");
  EXPECT_EQ(WaitForState(*job_, JobState::kStreaming, absl::Seconds(30)).state,
            JobState::kStreaming);
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  ASSERT_TRUE(a_->CheckedCommand({"SELECT", "0"}).ok());
  EXPECT_EQ(a_->CheckedCommand({"GET", "0:after"})->str, "y");
}

TEST_F(CutoverTest, Redis60SourceIsPausedWholeForTheBound) {
  const std::string fetched = "redis-6.0/bin/redis-server";
  std::optional<std::string> redis6 = testing::FindServerBinary("RESHARD_REDIS6_SERVER", fetched);
  if (!redis6.has_value()) {
    GTEST_SKIP() << "needs Redis 6.0 (" << testing::FetchedServerPath(fetched)
                 << "): run scripts/fetch_servers.sh";
  }
  server_options_.binary = *redis6;
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob(1000, "cutover-six"));
  CutoverOptions options;
  options.max_write_pause = absl::Milliseconds(500);
  options.promote = true;
  ASSERT_TRUE(job_->Cutover(options).ok());
  JobStatus status = WaitForCutover(*job_, absl::Seconds(30));
  ASSERT_TRUE(status.cutover.has_value());
  const CutoverReport& report = *status.cutover;
  ASSERT_EQ(report.state, CutoverState::kDone) << report.error;
  EXPECT_EQ(report.pause_mode, "ALL");
  EXPECT_DOUBLE_EQ(report.write_pause_ms, 500);
  ASSERT_EQ(report.steps.size(), 5u);
  EXPECT_EQ(report.steps[4],
            "5 unpause: Redis 6.0.16 (RDB 9) has no CLIENT UNPAUSE: writes resume when the 500 ms "
            "pause times out");
  // The pause ends by itself; then the shards are the source's halves.
  ASSERT_TRUE(RedisClient::WaitFor([&] { return source_client_->CheckedCommand({"PING"}).ok(); },
                                   absl::Seconds(5))
                  .ok());
  ASSERT_NO_FATAL_FAILURE(ExpectPromotedExactHalves());
}

}  // namespace
}  // namespace reshard::integration
