// VerifyJobData against a real job: a source split in half onto two managed
// targets. A clean split verifies with no problems; damage done on purpose
// on the targets is reported exactly (db, key, target, kind, detail), each
// difference only after the targets had applied the source offset at which
// it was read; writes running during the verification are not reported (lag
// is not loss). On Redis 8 / Valkey 9, hash-field expiries and streams with
// consumer groups are compared too.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/job/key_verifier.h"
#include "engine/job/verification.h"
#include "tests/integration/split_harness.h"
#include "tests/support/server_binaries.h"

namespace reshard::integration {
namespace {

using engine::VerifyOptions;
using engine::VerifyProblem;
using engine::VerifyProblemKind;
using engine::VerifyReport;
using engine::VerifyState;

class VerifyTest : public HalvesTest {
 protected:
  // A streaming job over `keys` numeric keys plus `extra` commands run on
  // the source first; both halves checked exactly.
  void StartStreamingJob(int keys, const std::vector<std::vector<std::string>>& extra) {
    ASSERT_NO_FATAL_FAILURE(StartServers(keys));
    ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(*source_client_, extra));
    StartJob("verify");
    JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(120));
    ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
    ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  }

  // A full verification at no rate limit, re-checking against the job's
  // applied offsets as reshardd does.
  VerifyReport Verify(VerifyOptions options = {}) {
    options.rate_keys_per_second = 0;
    engine::Job* job = job_.get();
    options.applied_offsets = [job] { return engine::AppliedSourceOffsets(job->Snapshot()); };
    absl::StatusOr<VerifyReport> report = engine::VerifyJobData(spec_, options);
    EXPECT_TRUE(report.ok()) << report.status();
    if (!report.ok()) return VerifyReport{};
    EXPECT_EQ(report->state, VerifyState::kDone) << report->error;
    return *report;
  }

  uint64_t SourceKeys() {
    uint64_t total = 0;
    for (const char* db : {"0", "1"}) {
      EXPECT_TRUE(source_client_->CheckedCommand({"SELECT", db}).ok());
      total += source_client_->CheckedCommand({"DBSIZE"})->integer;
    }
    return total;
  }

  // Lets both targets take writes (they are replicas), for the damage.
  void MakeTargetsWritable() {
    for (RedisClient* target : {&*a_, &*b_}) {
      ASSERT_TRUE(target->CheckedCommand({"CONFIG", "SET", "replica-read-only", "no"}).ok());
    }
  }
};

using ProblemKey = std::tuple<int, std::string, std::string, VerifyProblemKind>;

std::vector<ProblemKey> Keys(const std::vector<VerifyProblem>& problems) {
  std::vector<ProblemKey> keys;
  for (const VerifyProblem& p : problems) keys.emplace_back(p.db, p.key, p.target, p.kind);
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string Describe(const VerifyReport& report) {
  std::string text;
  for (const VerifyProblem& p : report.problems) {
    absl::StrAppend(&text, p.db, " ", p.key, " ", p.target, " ",
                    std::string(engine::VerifyProblemKindName(p.kind)), " ", p.detail, "\n");
  }
  return text;
}

const VerifyProblem* Find(const VerifyReport& report, const std::string& key) {
  for (const VerifyProblem& p : report.problems) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

TEST_F(VerifyTest, CleanSplitThenExactlyTheDamage) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob(3000, {{"SELECT", "0"},
                                                   {"SET", "0:deleted", "v"},
                                                   {"SET", "1:changed", "v"},
                                                   {"SET", "2:ttl", "v"},
                                                   {"SELECT", "1"},
                                                   {"SET", "5:wrong", "b's key"}}));
  const uint64_t source_keys = SourceKeys();

  VerifyReport clean = Verify();
  EXPECT_EQ(clean.problem_count(), 0u) << Describe(clean);
  EXPECT_TRUE(clean.problems.empty()) << Describe(clean);
  EXPECT_EQ(clean.keys_checked, source_keys);
  EXPECT_EQ(clean.target_keys_checked, source_keys);
  EXPECT_EQ(clean.unsettled, 0u);
  EXPECT_EQ(clean.keys_total, 3 * source_keys);  // pre-check, source and target passes
  EXPECT_DOUBLE_EQ(clean.progress(), 1.0);
  ASSERT_EQ(clean.precheck.size(), 2u);
  for (const engine::DbPrecheck& db : clean.precheck) {
    ASSERT_EQ(db.expected.size(), 2u);
    EXPECT_EQ(db.expected, db.target_keys) << "db " << db.db;
    EXPECT_EQ(db.expected[0] + db.expected[1], db.source_keys) << "db " << db.db;
  }

  // Damage target a on purpose: a key deleted, a value changed, a TTL only
  // on the target, a key the source never had, and b's key put on a.
  ASSERT_NO_FATAL_FAILURE(MakeTargetsWritable());
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(*a_, {{"SELECT", "0"},
                                                          {"DEL", "0:deleted"},
                                                          {"SET", "1:changed", "other"},
                                                          {"PEXPIRE", "2:ttl", "600000"},
                                                          {"SET", "3:stray", "x"},
                                                          {"SELECT", "1"},
                                                          {"SET", "5:wrong", "b's key"}}));

  VerifyReport damaged = Verify();
  std::vector<ProblemKey> expected = {
      {0, "0:deleted", "a", VerifyProblemKind::kMissing},
      {0, "1:changed", "a", VerifyProblemKind::kDifferentValue},
      {0, "2:ttl", "a", VerifyProblemKind::kDifferentTtl},
      {0, "3:stray", "a", VerifyProblemKind::kStray},
      {1, "5:wrong", "a", VerifyProblemKind::kStray},
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Keys(damaged.problems), expected) << Describe(damaged);
  EXPECT_EQ(damaged.missing, 1u);
  EXPECT_EQ(damaged.stray, 2u);
  EXPECT_EQ(damaged.different, 2u);
  EXPECT_EQ(damaged.unsettled, 0u);
  EXPECT_EQ(damaged.keys_checked, source_keys);
  // Every difference but the one no filter allows was re-checked once the
  // targets had applied the offset it was read at.
  EXPECT_EQ(damaged.rechecked, 4u);
  const VerifyProblem* p = Find(damaged, "0:deleted");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->detail, "not on the target");
  ASSERT_NE(p = Find(damaged, "3:stray"), nullptr);
  EXPECT_EQ(p->detail, "not on the source");
  ASSERT_NE(p = Find(damaged, "5:wrong"), nullptr);
  EXPECT_EQ(p->detail, "not selected by the target's filter regex:^[0-4]");
  ASSERT_NE(p = Find(damaged, "2:ttl"), nullptr);
  EXPECT_TRUE(absl::StartsWith(p->detail, "ttl: source none, target 59")) << p->detail;
  ASSERT_NE(p = Find(damaged, "1:changed"), nullptr);
  EXPECT_TRUE(absl::StartsWith(p->detail, "value: string differs")) << p->detail;
  EXPECT_TRUE(absl::EndsWith(p->detail, "; DUMP 13 bytes on the source, 17 on the target"))
      << p->detail;
  // The pre-check sees the counts move: target a lost one key in db 0 and
  // gained one in each db.
  ASSERT_EQ(damaged.precheck.size(), 2u);
  EXPECT_EQ(damaged.precheck[0].target_keys[0], damaged.precheck[0].expected[0]);  // -1 +1
  EXPECT_EQ(damaged.precheck[1].target_keys[0], damaged.precheck[1].expected[0] + 1);

  // max_problems bounds the list of each kind, not the counts; a sample
  // checks a tenth.
  VerifyOptions few;
  few.max_problems = 1;
  VerifyReport bounded = Verify(few);
  EXPECT_EQ(bounded.problems.size(), 4u) << Describe(bounded);  // one of the two strays
  EXPECT_EQ(bounded.problem_count(), 5u);
  VerifyOptions sample;
  sample.sample_fraction = 0.1;
  VerifyReport sampled = Verify(sample);
  EXPECT_GT(sampled.keys_checked, source_keys / 20);
  EXPECT_LT(sampled.keys_checked, source_keys / 5);
  job_->Cancel();
}

TEST_F(VerifyTest, WritesDuringTheVerificationAreNotReported) {
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob(3000, {}));
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, source_.get(), &stop, &rounds);
  ASSERT_TRUE(RedisClient::WaitFor([&] { return rounds.load() > 10; }, absl::Seconds(30)).ok());
  int before = rounds.load();
  std::vector<VerifyReport> progress;
  VerifyOptions options;
  options.progress_interval = absl::ZeroDuration();
  options.on_progress = [&](const VerifyReport& report) { progress.push_back(report); };
  VerifyReport report = Verify(options);
  int during = rounds.load() - before;
  stop = true;
  writer.join();
  EXPECT_GT(during, 0) << "no writes ran during the verification";
  EXPECT_EQ(report.problem_count(), 0u) << Describe(report);
  EXPECT_GT(report.keys_checked, 3000u);
  // Progress grows to the end, which comes last.
  ASSERT_GT(progress.size(), 2u);
  EXPECT_EQ(progress.front().state, VerifyState::kRunning);
  EXPECT_EQ(progress.back().state, VerifyState::kDone);
  for (size_t i = 1; i < progress.size(); ++i) {
    EXPECT_GE(progress[i].keys_scanned, progress[i - 1].keys_scanned);
  }
  job_->Cancel();
}

// Redis 8 / Valkey 9: a hash with field expiries and a stream with a
// consumer group and pending entries verify clean; a field expiry set only
// on the target and a group acknowledged only on the target are reported.
class VerifyNewTypesTest
    : public VerifyTest,
      public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(VerifyNewTypesTest, FieldExpiriesAndConsumerGroups) {
  std::optional<std::string> binary =
      testing::FindServerBinary(GetParam().first, GetParam().second);
  if (!binary.has_value()) {
    GTEST_SKIP() << "needs " << testing::FetchedServerPath(GetParam().second)
                 << ": run scripts/fetch_servers.sh";
  }
  server_options_.binary = *binary;
  ASSERT_NO_FATAL_FAILURE(StartStreamingJob(
      200, {{"SELECT", "0"},
            {"HSET", "0:h", "f", "1", "g", "2", "keep", "3"},
            {"HPEXPIRE", "0:h", "600000", "FIELDS", "2", "f", "g"},
            {"HSET", "1:h", "f", "1"},
            {"XADD", "2:s", "1-1", "a", "1"},
            {"XADD", "2:s", "2-1", "b", "2"},
            {"XGROUP", "CREATE", "2:s", "g", "0"},
            {"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "2:s", ">"},
            {"XADD", "3:s", "1-1", "a", "1"},
            {"XGROUP", "CREATE", "3:s", "g", "0"},
            {"XREADGROUP", "GROUP", "g", "bob", "STREAMS", "3:s", ">"}}));
  // Through the stream too: a consumer reads (the targets get XCLAIMs and
  // stamp the consumer with their own clocks) and a relative field expiry
  // (the job makes it absolute).
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(
      *source_client_, {{"SELECT", "0"},
                        {"XADD", "2:s", "3-1", "c", "3"},
                        {"XREADGROUP", "GROUP", "g", "carol", "STREAMS", "2:s", ">"},
                        {"HSET", "4:h", "f", "1", "g", "2"},
                        {"HPEXPIRE", "4:h", "600000", "FIELDS", "1", "f"}}));
  WaitForMarkers(*source_client_, {&*a_, &*b_}, {"0:streamed", "5:streamed"});
  VerifyReport clean = Verify();
  EXPECT_EQ(clean.problem_count(), 0u) << Describe(clean);
  EXPECT_EQ(clean.unsettled, 0u);

  ASSERT_NO_FATAL_FAILURE(MakeTargetsWritable());
  ASSERT_NO_FATAL_FAILURE(
      testing::RunWithoutErrors(*a_, {{"SELECT", "0"},
                                      {"HPEXPIRE", "1:h", "600000", "FIELDS", "1", "f"},
                                      {"XACK", "3:s", "g", "1-1"}}));
  VerifyReport damaged = Verify();
  std::vector<ProblemKey> expected = {
      {0, "1:h", "a", VerifyProblemKind::kDifferentTtl},
      {0, "3:s", "a", VerifyProblemKind::kDifferentValue},
  };
  EXPECT_EQ(Keys(damaged.problems), expected) << Describe(damaged);
  const VerifyProblem* p = Find(damaged, "1:h");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(absl::StartsWith(p->detail, "field 'f' ttl: source none, target 59")) << p->detail;
  ASSERT_NE(p = Find(damaged, "3:s"), nullptr);
  EXPECT_TRUE(absl::StartsWith(p->detail, "value: stream differs")) << p->detail;
  job_->Cancel();
}

INSTANTIATE_TEST_SUITE_P(
    Servers, VerifyNewTypesTest,
    ::testing::Values(std::make_pair("RESHARD_REDIS8_SERVER", "redis-8.0/bin/redis-server"),
                      std::make_pair("RESHARD_VALKEY9_SERVER", "valkey-9.1/bin/valkey-server")),
    [](const auto& info) {
      return std::string(info.param.first) == "RESHARD_REDIS8_SERVER" ? "Redis8" : "Valkey9";
    });

TEST(VerifyErrors, BadOptionsAreNamed) {
  JobSpec spec;
  spec.source.address = "127.0.0.1:1";
  spec.targets.push_back(MakeTarget("a", {FilterKind::kPrefix, "a"}, 1, nullptr));
  absl::StatusOr<VerifyReport> report = engine::VerifyJobData(spec, {});
  EXPECT_EQ(report.status().message(),
            "targets[0] 'a': not a managed target, so its Redis address must be given "
            "(target_addresses)");
  VerifyOptions options;
  options.sample_fraction = 1.5;
  EXPECT_EQ(engine::VerifyJobData(spec, options).status().message(),
            "sample fraction: must be in (0, 1], not 1.5");
  // A server that cannot be read fails the run, naming it.
  options = {};
  options.target_endpoints = {engine::RedisEndpoint{{"127.0.0.1", 1}, {}}};
  report = engine::VerifyJobData(spec, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->state, VerifyState::kFailed);
  EXPECT_EQ(report->error, "source 127.0.0.1:1: cannot connect: Connection refused");
}

}  // namespace
}  // namespace reshard::integration
