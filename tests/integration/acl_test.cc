// Least privilege (issue 12): a job whose source user and managed-target user
// have exactly the ACL rules README.md gives (read from README.md itself, so
// the documentation cannot drift from what is tested) streams, materialises
// a key that moves between targets, verifies clean and cuts over with both
// halves exact; with one rule removed, the job fails naming the command.
// Real Redis 7 (Debian's redis-server).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/job/cutover_report.h"
#include "engine/job/key_verifier.h"
#include "engine/job/verification.h"
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

  // The job fails; its error, which must name `command`.
  void ExpectFailsNaming(const std::string& command) {
    JobStatus status = WaitForState(*job_, JobState::kStreaming, absl::Seconds(60));
    ASSERT_EQ(status.state, JobState::kFailed) << status.detail;
    EXPECT_THAT(std::string(status.error.message()), HasSubstr("'" + command + "'"))
        << status.error;
    EXPECT_THAT(std::string(status.error.message()), HasSubstr("NOPERM")) << status.error;
  }
};

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

TEST_F(AclTest, WithoutPsyncOnTheSourceTheJobFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, /*source_without=*/"+psync"));
  StartJobAsUsers("acl-no-psync");
  ExpectFailsNaming("psync");
}

TEST_F(AclTest, WithoutReplicaofOnATargetTheJobFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartServersWithUsers(10, "", /*target_without=*/"+replicaof"));
  StartJobAsUsers("acl-no-replicaof");
  ExpectFailsNaming("replicaof");
}

}  // namespace
}  // namespace reshard::integration
