// Least privilege (issue 12): a job whose source user and managed-target user
// have exactly the ACL rules README.md gives (read from README.md itself, so
// the documentation cannot drift from what is tested) streams, materialises
// a key that moves between targets, verifies clean and cuts over with both
// halves exact; with one rule removed (replication, key copies, verify,
// cutover, the targets' REPLICAOF), what needs it fails with one message
// naming the connection, the user, the command, its ACL categories and the
// rule to add (engine/link/permission_error.h).
// Real Redis 7 (Debian's redis-server).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/job/cutover_report.h"
#include "engine/job/key_verifier.h"
#include "engine/job/verification.h"
#include "engine/link/permission_error.h"
#include "tests/integration/split_harness.h"
#include "tests/support/free_port.h"

namespace reshard::integration {
namespace {

using ::testing::HasSubstr;

constexpr char kSourcePassword[] = "acl-source-pass-1";
constexpr char kTargetPassword[] = "acl-target-pass-2";

// The line of README.md that starts with `prefix` ("ACL SETUSER
// reshard-source "), as arguments, with PASSWORD replaced by `password` and
// the rule `without` (if any) left out.
std::vector<std::string> ReadmeAclRule(const std::string& prefix, const std::string& password,
                                       const std::string& without = "") {
  std::ifstream in(std::string(RESHARD_SOURCE_DIR) + "/README.md");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::vector<std::string> args;
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      std::string arg = absl::StrReplaceAll(word, {{"PASSWORD", password}});
      if (arg != without) args.push_back(arg);
    }
    return args;
  }
  ADD_FAILURE() << "README.md has no line starting with '" << prefix << "'";
  return {};
}

engine::JobStatus WaitForCutover(engine::Job& job, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  engine::JobStatus status = job.Snapshot();
  while (!(status.cutover.has_value() && status.cutover->state != engine::CutoverState::kRunning) &&
         absl::Now() < deadline) {
    status = job.WaitForChange(status.version, absl::Milliseconds(100));
  }
  return status;
}

class AclTest : public HalvesTest {
 protected:
  // The source and both targets, each with the README's user (a rule left
  // out on the source's or the targets' when given).
  void StartServersWithUsers(int keys, const std::string& source_without = "",
                             const std::string& target_without = "") {
    ASSERT_NO_FATAL_FAILURE(StartServers(keys));
    std::vector<std::string> source_rule =
        ReadmeAclRule("ACL SETUSER reshard-source ", kSourcePassword, source_without);
    ASSERT_FALSE(source_rule.empty());
    ASSERT_TRUE(source_client_->CheckedCommand(source_rule).ok());
    std::vector<std::string> target_rule =
        ReadmeAclRule("ACL SETUSER reshard-target ", kTargetPassword, target_without);
    ASSERT_FALSE(target_rule.empty());
    for (RedisServer* target : {target_a_.get(), target_b_.get()}) {
      RedisClient client = Connect(*target);
      ASSERT_TRUE(client.CheckedCommand(target_rule).ok());
    }
  }

  // The job of HalvesTest, as those users.
  void StartJobAsUsers(const std::string& id) {
    spec_.source.address = source_->address();
    spec_.source.credentials = {"reshard-source", kSourcePassword};
    spec_.targets.push_back(
        MakeTarget("a", {FilterKind::kRegex, "^[0-4]"}, testing::PickFreePort(), target_a_.get()));
    spec_.targets.push_back(
        MakeTarget("b", {FilterKind::kRegex, "^[5-9]"}, testing::PickFreePort(), target_b_.get()));
    for (engine::TargetSpec& target : spec_.targets) {
      target.replica->credentials = {"reshard-target", kTargetPassword};
    }
    ASSERT_TRUE(engine::ValidateJobSpec(spec_).ok());
    job_ = std::make_unique<Job>(id, spec_);
    job_->Start();
  }

  // The job fails with exactly `error` (a PERMISSION_DENIED or
  // FAILED_PRECONDITION status whose message is given).
  void ExpectJobFailsWith(const std::string& error) {
    JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
    ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
    EXPECT_EQ(std::string(status.error.message()), error) << status.error;
  }

  // The job streams (every target loaded).
  void ExpectStreaming() {
    JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
    ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  }

  std::string Source() const { return "source " + source_->address(); }
  std::string Target(const std::string& name, const RedisServer& server) const {
    return "target '" + name + "' " + server.address();
  }
};

// The text every refusal ends with: README.md's rule for the command.
std::string Refusal(const std::string& user, const std::string& peer, const std::string& command,
                    const std::string& categories, const std::string& rule) {
  return "NOPERM user '" + user + "' on " + peer + " may not run '" + command +
         "' (ACL categories " + categories + "): add " + rule +
         " to its ACL rules (README.md, Least privilege)";
}

TEST_F(AclTest, TheReadmeRulesAreEnoughToSplitVerifyAndCutOver) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(300));
  StartJobAsUsers("acl");
  JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  // A key renamed from target a's half to b's: the job copies it from the
  // source (DUMP, PTTL under MULTI as reshard-source).
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(
      *source_client_, {{"SET", "2:moved", "value"}, {"RENAME", "2:moved", "7:moved"}}));
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
  RedisClient b = Connect(*target_b_);
  EXPECT_EQ(b.CheckedCommand({"GET", "7:moved"})->str, "value");

  engine::VerifyOptions verify;
  verify.rate_keys_per_second = 0;
  engine::Job* job = job_.get();
  verify.applied_offsets = [job] { return engine::AppliedSourceOffsets(job->Snapshot()); };
  absl::StatusOr<engine::VerifyReport> report = engine::VerifyJobData(spec_, verify);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->state, engine::VerifyState::kDone) << report->error;
  EXPECT_EQ(report->problem_count(), 0u);

  ASSERT_TRUE(job_->Cutover({}).ok());
  JobStatus cut = WaitForCutover(*job_, absl::Seconds(60));
  ASSERT_TRUE(cut.cutover.has_value());
  EXPECT_EQ(cut.cutover->state, engine::CutoverState::kDone) << cut.cutover->error;
}

// The built-in categories (used when the user may not run COMMAND, as the
// target user may not) are the server's own, for every command Redis 7.0 has.
TEST_F(AclTest, TheBuiltInCategoriesAreTheServersOwn) {
  ASSERT_NO_FATAL_FAILURE(StartServers(0));
  int compared = 0;
  for (const engine::AclCommandRule& rule : engine::AclCommandRules()) {
    absl::StatusOr<engine::RespValue> info =
        source_client_->CheckedCommand({"COMMAND", "INFO", std::string(rule.command)});
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_EQ(info->elements.size(), 1u);
    if (info->elements[0].type != engine::RespValue::Type::kArray) {
      EXPECT_EQ(rule.command, "hpexpiretime");  // Redis 7.4's
      continue;
    }
    std::vector<std::string> categories;
    for (const engine::RespValue& category : info->elements[0].elements[6].elements) {
      categories.push_back(category.str);
    }
    EXPECT_EQ(absl::StrJoin(categories, " "), rule.categories) << rule.command;
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(engine::AclCommandRules().size()) - 1);
}

TEST_F(AclTest, WithoutPsyncOnTheSourceTheJobFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, /*source_without=*/"+psync"));
  StartJobAsUsers("acl-no-psync");
  ExpectJobFailsWith(
      Refusal("reshard-source", Source(), "psync", "@admin @slow @dangerous", "+psync"));
}

TEST_F(AclTest, WithoutReplconfOnTheSourceTheJobFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, /*source_without=*/"+replconf"));
  StartJobAsUsers("acl-no-replconf");
  ExpectJobFailsWith(
      Refusal("reshard-source", Source(), "replconf", "@admin @slow @dangerous", "+replconf"));
}

TEST_F(AclTest, WithoutDumpOnTheSourceAKeyCopyFailsTheJobNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, /*source_without=*/"+dump"));
  StartJobAsUsers("acl-no-dump");
  ASSERT_NO_FATAL_FAILURE(ExpectStreaming());
  // A key renamed from a's half to b's needs a copy from the source (DUMP).
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(
      *source_client_, {{"SET", "2:moved", "value"}, {"RENAME", "2:moved", "7:moved"}}));
  JobStatus status = WaitForState(*job_, JobState::kFailed, absl::Seconds(60));
  ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
  EXPECT_EQ(std::string(status.error.message()),
            "copying keys for cross-target writes: source (key copies) " + source_->address() +
                ": copying keys: " +
                Refusal("reshard-source", "source (key copies) " + source_->address(), "dump",
                        "@keyspace @read @slow", "+dump"))
      << status.error;
}

TEST_F(AclTest, WithoutClientPauseOnTheSourceTheCutoverFailsNamingItAndStreamsOn) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, /*source_without=*/"+client|pause"));
  StartJobAsUsers("acl-no-pause");
  ASSERT_NO_FATAL_FAILURE(ExpectStreaming());
  ASSERT_TRUE(job_->Cutover({}).ok());
  JobStatus cut = WaitForCutover(*job_, absl::Seconds(60));
  ASSERT_TRUE(cut.cutover.has_value());
  EXPECT_EQ(cut.cutover->state, engine::CutoverState::kRolledBack);
  EXPECT_EQ(cut.cutover->error,
            "cutover step 2 (pause the source's writes): " + Source() + ": CLIENT PAUSE: " +
                Refusal("reshard-source", Source(), "client|pause",
                        "@admin @slow @dangerous @connection", "+client|pause") +
                "; source unpaused");
  // Rolled back: the job streams on, both halves exact.
  ASSERT_NO_FATAL_FAILURE(ExpectStreaming());
  ASSERT_NO_FATAL_FAILURE(ExpectExactHalves());
}

TEST_F(AclTest, WithoutScanOnATargetVerifyFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, "", /*target_without=*/"+scan"));
  StartJobAsUsers("acl-no-scan");
  ASSERT_NO_FATAL_FAILURE(ExpectStreaming());
  engine::VerifyOptions verify;
  verify.rate_keys_per_second = 0;
  absl::StatusOr<engine::VerifyReport> report = engine::VerifyJobData(spec_, verify);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->state, engine::VerifyState::kFailed);
  EXPECT_EQ(report->error, Target("a", *target_a_) + ": SCAN: " +
                               Refusal("reshard-target", Target("a", *target_a_), "scan",
                                       "@keyspace @read @slow", "+scan"));
}

TEST_F(AclTest, WithoutReplicaofOnATargetTheJobFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, "", /*target_without=*/"+replicaof"));
  StartJobAsUsers("acl-no-replicaof");
  ExpectJobFailsWith(Target("a", *target_a_) + ": REPLICAOF 127.0.0.1 failed: " +
                     Refusal("reshard-target", Target("a", *target_a_), "replicaof",
                             "@admin @slow @dangerous", "+replicaof"));
}

}  // namespace
}  // namespace reshard::integration
