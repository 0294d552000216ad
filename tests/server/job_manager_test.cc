// JobManager over real engine::Jobs: jobs whose source never answers (they
// stay CONNECTING), a real redis-server source with a managed target for a
// STREAMING job, and a JobStore in a temporary directory.

#include "server/job_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/job/job_spec.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/silent_listener.h"

namespace reshard::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using testing::SilentListener;

std::string Address(uint16_t port) { return absl::StrCat("127.0.0.1:", port); }

engine::JobSpec SpecFor(const std::string& source, const std::string& managed_target = "") {
  engine::JobSpec spec;
  spec.source.address = source;
  engine::TargetSpec target;
  target.name = "a";
  target.filter = {engine::FilterKind::kPrefix, "user:"};
  target.listen = Address(testing::PickFreePort());
  if (!managed_target.empty()) target.replica = engine::Endpoint{managed_target, {}};
  spec.targets.push_back(target);
  spec.options.connect_attempts = 1;
  EXPECT_TRUE(engine::ValidateJobSpec(spec).ok());
  return spec;
}

// The job's view once it is in `state` (or a terminal state, or after
// `timeout`).
JobView WaitForState(const JobManager& manager, const std::string& id, engine::JobState state,
                     absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<JobView> view = manager.Get(id);
  EXPECT_TRUE(view.ok()) << view.status();
  while (view.ok() && view->status.state != state && !engine::IsTerminal(view->status.state) &&
         absl::Now() < deadline) {
    view = manager.WaitForChange(id, view->status.version, absl::Milliseconds(200));
  }
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? *view : JobView{};
}

void ExpectError(const absl::Status& status, absl::StatusCode code, const std::string& message) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(status.message(), message);
}

TEST(JobManagerTest, CreateGetAndListById) {
  SilentListener source;
  JobManager manager(nullptr);
  absl::StatusOr<JobView> named = manager.Create("z-last", SpecFor(Address(source.port())));
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->id, "z-last");
  EXPECT_EQ(named->spec.source.address, Address(source.port()));
  absl::StatusOr<JobView> generated = manager.Create("", SpecFor(Address(source.port())));
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_THAT(generated->id, MatchesRegex("job-[0-9a-f]{8}"));
  ASSERT_TRUE(manager.Create("a-first", SpecFor(Address(source.port()))).ok());

  absl::StatusOr<JobView> got = manager.Get("z-last");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->spec.targets[0].name, "a");
  std::vector<JobView> list = manager.List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, "a-first");
  EXPECT_EQ(list[1].id, generated->id);
  EXPECT_EQ(list[2].id, "z-last");
}

TEST(JobManagerTest, CreateRejectsBadAndTakenIds) {
  SilentListener source;
  JobManager manager(nullptr);
  ASSERT_TRUE(manager.Create("taken", SpecFor(Address(source.port()))).ok());
  ExpectError(manager.Create("taken", SpecFor(Address(source.port()))).status(),
              absl::StatusCode::kAlreadyExists, "job taken already exists");
  ExpectError(manager.Create("Upper", SpecFor(Address(source.port()))).status(),
              absl::StatusCode::kInvalidArgument,
              "job_id: 'Upper' must start with a lowercase letter");
  ExpectError(JobManager::ValidateJobId("a-"), absl::StatusCode::kInvalidArgument,
              "job_id: 'a-' must not end with '-'");
  ExpectError(JobManager::ValidateJobId("a_b"), absl::StatusCode::kInvalidArgument,
              "job_id: 'a_b' may contain only lowercase letters, digits and '-'");
  ExpectError(JobManager::ValidateJobId(std::string(64, 'a')), absl::StatusCode::kInvalidArgument,
              absl::StrCat("job_id: '", std::string(64, 'a'), "' must be 1 to 63 characters long"));
  EXPECT_TRUE(JobManager::ValidateJobId(std::string(63, 'a')).ok());
  EXPECT_EQ(manager.List().size(), 1u);
}

TEST(JobManagerTest, UnknownIdIsNotFound) {
  JobManager manager(nullptr);
  ExpectError(manager.Get("nope").status(), absl::StatusCode::kNotFound, "job nope not found");
  ExpectError(manager.Pause("nope").status(), absl::StatusCode::kNotFound, "job nope not found");
  ExpectError(manager.Resume("nope").status(), absl::StatusCode::kNotFound, "job nope not found");
  ExpectError(manager.Cancel("nope").status(), absl::StatusCode::kNotFound, "job nope not found");
  ExpectError(manager.Delete("nope"), absl::StatusCode::kNotFound, "job nope not found");
  ExpectError(manager.WaitForChange("nope", 0, absl::Milliseconds(1)).status(),
              absl::StatusCode::kNotFound, "job nope not found");
}

// The engine decides: a job that is still connecting can be neither paused
// nor resumed, and says so in its own words.
TEST(JobManagerTest, PauseAndResumeOfAConnectingJobAreTheEnginesRefusal) {
  SilentListener source;
  JobManager manager(nullptr);
  ASSERT_TRUE(manager.Create("hang", SpecFor(Address(source.port()))).ok());
  ASSERT_EQ(WaitForState(manager, "hang", engine::JobState::kConnecting).status.state,
            engine::JobState::kConnecting);
  ExpectError(manager.Pause("hang").status(), absl::StatusCode::kFailedPrecondition,
              "job hang is CONNECTING; only a STREAMING job can be paused");
  ExpectError(manager.Resume("hang").status(), absl::StatusCode::kFailedPrecondition,
              "job hang is CONNECTING; only a PAUSED job can be resumed");
  // Nor is it verified or cut over before it streams.
  ExpectError(manager.Verify("hang", {}).status(), absl::StatusCode::kFailedPrecondition,
              "job hang is CONNECTING; a job is verified once it streams");
  ExpectError(manager.Cutover("hang", {}).status(), absl::StatusCode::kFailedPrecondition,
              "job hang is CONNECTING; only a STREAMING job can be cut over");
}

TEST(JobManagerTest, CancelEndsTheJobOnceThenRefuses) {
  SilentListener source;
  JobManager manager(nullptr);
  ASSERT_TRUE(manager.Create("life", SpecFor(Address(source.port()))).ok());
  ASSERT_TRUE(manager.Cancel("life").ok());
  EXPECT_EQ(WaitForState(manager, "life", engine::JobState::kCancelled).status.state,
            engine::JobState::kCancelled);
  ExpectError(manager.Cancel("life").status(), absl::StatusCode::kFailedPrecondition,
              "job life is CANCELLED; it has already ended");
  ExpectError(manager.Pause("life").status(), absl::StatusCode::kFailedPrecondition,
              "job life is CANCELLED; only a STREAMING job can be paused");
}

TEST(JobManagerTest, DeleteForgetsARunningJob) {
  SilentListener source;
  JobManager manager(nullptr);
  ASSERT_TRUE(manager.Create("gone", SpecFor(Address(source.port()))).ok());
  absl::StatusOr<JobView> view = manager.Get("gone");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(manager.Delete("gone").ok());
  ExpectError(manager.Get("gone").status(), absl::StatusCode::kNotFound, "job gone not found");
  ExpectError(manager.Delete("gone"), absl::StatusCode::kNotFound, "job gone not found");
  EXPECT_TRUE(manager.List().empty());
}

TEST(JobManagerTest, ShutdownCancelsEverythingAndRefusesNewJobs) {
  SilentListener source;
  JobManager manager(nullptr);
  ASSERT_TRUE(manager.Create("one", SpecFor(Address(source.port()))).ok());
  manager.Shutdown();
  EXPECT_TRUE(manager.shutting_down());
  EXPECT_TRUE(manager.List().empty());
  ExpectError(manager.Create("two", SpecFor(Address(source.port()))).status(),
              absl::StatusCode::kUnavailable, "reshardd is shutting down");
  manager.Shutdown();  // idempotent
}

class JobManagerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("job_manager_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<JobStore> Store() const { return std::make_unique<JobStore>(dir_.string()); }

  fs::path dir_;
};

TEST_F(JobManagerStoreTest, RestoreListsEndedJobsAndRestartsTheOthers) {
  SilentListener source;
  {
    JobManager manager(Store());
    ASSERT_TRUE(manager.Create("ended", SpecFor(Address(source.port()))).ok());
    ASSERT_TRUE(manager.Create("running", SpecFor(Address(source.port()))).ok());
    ASSERT_TRUE(manager.Cancel("ended").ok());
    ASSERT_EQ(WaitForState(manager, "ended", engine::JobState::kCancelled).status.state,
              engine::JobState::kCancelled);
    // The monitor persists the state change; wait until the file says so.
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<std::vector<StoredJob>> stored = Store()->LoadAll();
      if (stored.ok() && stored->size() == 2 && (*stored)[0].state == engine::JobState::kCancelled)
        break;
      absl::SleepFor(absl::Milliseconds(50));
    }
  }  // Shutdown does not persist the cancellation of "running"

  JobManager restored(Store());
  ASSERT_TRUE(restored.Restore().ok());
  std::vector<JobView> list = restored.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "ended");
  EXPECT_EQ(list[0].status.state, engine::JobState::kCancelled);
  ASSERT_EQ(list[0].status.targets.size(), 1u);
  EXPECT_EQ(list[0].status.targets[0].name, "a");
  EXPECT_EQ(list[1].id, "running");
  EXPECT_FALSE(engine::IsTerminal(list[1].status.state));
  // It continues from its durable state, retrying its connections.
  EXPECT_TRUE(list[1].spec.options.restored);
  EXPECT_EQ(list[1].spec.options.state_dir, (dir_ / "running.state").string());
  // A restored ended job has no engine::Job; it refuses as one would.
  ExpectError(restored.Pause("ended").status(), absl::StatusCode::kFailedPrecondition,
              "job ended is CANCELLED; only a STREAMING job can be paused");
  ExpectError(restored.Resume("ended").status(), absl::StatusCode::kFailedPrecondition,
              "job ended is CANCELLED; only a PAUSED job can be resumed");
  ExpectError(restored.Cancel("ended").status(), absl::StatusCode::kFailedPrecondition,
              "job ended is CANCELLED; it has already ended");
  EXPECT_TRUE(restored.WaitForChange("ended", 0, absl::Milliseconds(1)).ok());
}

// set-source on a job that waits for its source: the new address is
// validated like the spec's, kept in the job's file, used by a restarted
// reshardd, and the job connects there; an ended job refuses.
TEST_F(JobManagerStoreTest, SetSourceKeepsTheNewAddressForARestart) {
  // Nothing listens on either: the job retries its connection meanwhile.
  const std::string old_source = Address(testing::PickFreePort());
  const std::string moved = Address(testing::PickFreePort());
  {
    JobManager manager(Store());
    engine::JobSpec spec = SpecFor(old_source);
    spec.options.connect_attempts = 1000;  // it keeps connecting meanwhile
    ASSERT_TRUE(manager.Create("moving", spec).ok());
    ExpectError(manager.SetSource("moving", "nohost").status(), absl::StatusCode::kInvalidArgument,
                "source.address: malformed address 'nohost': port missing");
    ExpectError(manager.SetSource("moving", spec.targets[0].listen).status(),
                absl::StatusCode::kInvalidArgument,
                absl::StrCat("targets[0].listen: listen address '", spec.targets[0].listen,
                             "' is the source address"));
    absl::StatusOr<JobView> view = manager.SetSource("moving", moved);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->spec.source.address, moved);
    absl::StatusOr<std::vector<StoredJob>> stored = Store()->LoadAll();
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_EQ(stored->size(), 1u);
    EXPECT_EQ((*stored)[0].spec.source.address, moved);
    // The job records it at once and connects there at its next attempt.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (view.ok() && absl::Now() < deadline && view->status.source_address != moved) {
      view = manager.WaitForChange("moving", view->status.version, absl::Milliseconds(200));
    }
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(view->status.source_address, moved);
    ASSERT_EQ(view->status.source_failovers.size(), 1u);
    EXPECT_EQ(view->status.source_failovers[0].kind, engine::SourceFailover::Kind::kPending);
    EXPECT_EQ(view->status.source_failovers[0].from, old_source);
    EXPECT_EQ(view->status.source_failovers[0].to, moved);
  }  // reshardd stops; the job file has the new address

  JobManager restored(Store());
  ASSERT_TRUE(restored.Restore().ok());
  absl::StatusOr<JobView> view = restored.Get("moving");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->spec.source.address, moved);
  EXPECT_TRUE(view->spec.options.restored);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (view.ok() && absl::Now() < deadline && view->status.source_address != moved) {
    view = restored.WaitForChange("moving", view->status.version, absl::Milliseconds(200));
  }
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->status.source_address, moved);
  ASSERT_TRUE(restored.Cancel("moving").ok());
  ASSERT_EQ(WaitForState(restored, "moving", engine::JobState::kCancelled).status.state,
            engine::JobState::kCancelled);
  ExpectError(restored.SetSource("moving", old_source).status(),
              absl::StatusCode::kFailedPrecondition,
              "job moving is CANCELLED; it has already ended");
}

// A DONE job (as a cutover leaves it) comes back DONE with its cutover and
// last verification, is not started again, can be verified again, and that
// verification is kept across the next restart.
TEST_F(JobManagerStoreTest, DoneJobKeepsItsCutoverAndVerificationAcrossRestarts) {
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> source = testing::RedisServer::Start();
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> target = testing::RedisServer::Start();
  ASSERT_TRUE(source.ok() && target.ok()) << source.status() << target.status();
  for (const auto* server : {&*source, &*target}) {
    absl::StatusOr<testing::RedisClient> client =
        testing::RedisClient::Connect("127.0.0.1", (**server).port());
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(client->CheckedCommand({"SET", "user:1", "v"}).ok());
    ASSERT_TRUE(client->CheckedCommand({"SET", "other", "x"}).ok());  // a stray on the target
  }
  StoredJob done;
  done.id = "done";
  done.spec = SpecFor((*source)->address(), (*target)->address());
  done.state = engine::JobState::kDone;
  done.detail = "cut over at source offset 100; write pause 3.0 ms";
  done.last_cutover.emplace();
  done.last_cutover->state = engine::CutoverState::kDone;
  done.last_cutover->write_pause_ms = 3;
  done.last_cutover->final_offset = 100;
  done.last_verification.emplace();
  done.last_verification->state = engine::VerifyState::kDone;
  done.last_verification->keys_checked = 1;
  ASSERT_TRUE(Store()->Save(done).ok());
  {
    JobManager restored(Store());
    ASSERT_TRUE(restored.Restore().ok());
    absl::StatusOr<JobView> view = restored.Get("done");
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->status.state, engine::JobState::kDone);
    ASSERT_TRUE(view->status.cutover.has_value());
    EXPECT_EQ(view->status.cutover->final_offset, 100u);
    ASSERT_TRUE(view->last_verification.has_value());
    EXPECT_EQ(view->last_verification->keys_checked, 1u);
    ExpectError(restored.Cutover("done", {}).status(), absl::StatusCode::kFailedPrecondition,
                "job done is DONE; only a STREAMING job can be cut over");
    // Verified again: the stray key on the target is found.
    engine::VerifyOptions options;
    options.rate_keys_per_second = 0;
    absl::StatusOr<JobView> started = restored.Verify("done", options);
    ASSERT_TRUE(started.ok()) << started.status();
    ASSERT_TRUE(started->last_verification.has_value());
    for (int i = 0; i < 2400; ++i) {  // up to 60 s on a loaded machine
      view = restored.Get("done");
      if (view->last_verification->state != engine::VerifyState::kRunning) break;
      absl::SleepFor(absl::Milliseconds(25));
    }
    ASSERT_EQ(view->last_verification->state, engine::VerifyState::kDone)
        << view->last_verification->error;
    EXPECT_EQ(view->last_verification->stray, 1u);
    EXPECT_EQ(view->last_verification->keys_checked, 2u);  // "other" is on no target
  }
  JobManager again(Store());
  ASSERT_TRUE(again.Restore().ok());
  absl::StatusOr<JobView> view = again.Get("done");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->status.state, engine::JobState::kDone);
  ASSERT_TRUE(view->last_verification.has_value());
  EXPECT_EQ(view->last_verification->stray, 1u);
  ASSERT_EQ(view->last_verification->problems.size(), 1u);
  EXPECT_EQ(view->last_verification->problems[0].key, "other");
  EXPECT_EQ(view->last_verification->problems[0].detail,
            "not selected by the target's filter prefix:user:");
}

// A job the store says was in CUTOVER (reshardd stopped mid-cutover) is not
// started again: it could point promoted targets back at reshardd.
TEST_F(JobManagerStoreTest, JobStoppedDuringACutoverIsRestoredFailed) {
  SilentListener source;
  StoredJob stored;
  stored.id = "mid";
  stored.spec = SpecFor(Address(source.port()), Address(testing::PickFreePort()));
  stored.state = engine::JobState::kCutover;
  ASSERT_TRUE(Store()->Save(stored).ok());
  JobManager restored(Store());
  ASSERT_TRUE(restored.Restore().ok());
  absl::StatusOr<JobView> view = restored.Get("mid");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->status.state, engine::JobState::kFailed);
  EXPECT_EQ(view->status.error,
            absl::FailedPreconditionError(
                "reshardd stopped during a cutover: the source may have been paused and the "
                "targets promoted; check them, then delete this job (a new job makes a new full "
                "sync)"));
  ExpectError(restored.Cancel("mid").status(), absl::StatusCode::kFailedPrecondition,
              "job mid is FAILED; it has already ended");
}

TEST_F(JobManagerStoreTest, EveryJobGetsTheSpoolDirCreatedOrRestored) {
  SilentListener source;
  const fs::path spool = dir_ / "spool" / "deeper";
  {
    JobManager manager(Store(), spool.string());
    absl::StatusOr<JobView> created = manager.Create("spooled", SpecFor(Address(source.port())));
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_EQ(created->spec.options.spool_dir, spool.string());
    EXPECT_TRUE(fs::is_directory(spool));
  }
  fs::remove_all(dir_ / "spool");
  JobManager restored(Store(), spool.string());
  ASSERT_TRUE(restored.Restore().ok());
  EXPECT_TRUE(fs::is_directory(spool));
  absl::StatusOr<JobView> view = restored.Get("spooled");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->spec.options.spool_dir, spool.string());

  // Without one the engine picks the system's temp dir.
  JobManager plain(nullptr);
  absl::StatusOr<JobView> unspooled = plain.Create("plain", SpecFor(Address(source.port())));
  ASSERT_TRUE(unspooled.ok()) << unspooled.status();
  EXPECT_EQ(unspooled->spec.options.spool_dir, "");
}

TEST_F(JobManagerStoreTest, AnUncreatableSpoolDirIsAClearError) {
  SilentListener source;
  std::ofstream(dir_ / "file") << "x";
  const std::string spool = (dir_ / "file" / "spool").string();
  JobManager manager(nullptr, spool);
  ExpectError(manager.Create("nope", SpecFor(Address(source.port()))).status(),
              absl::StatusCode::kFailedPrecondition,
              "spool_dir: cannot create " + spool + ": Not a directory");
  EXPECT_TRUE(manager.List().empty());
  std::ofstream(dir_ / "plain") << "x";
  JobManager on_a_file(Store(), (dir_ / "plain").string());
  ExpectError(on_a_file.Restore(), absl::StatusCode::kFailedPrecondition,
              "spool_dir: cannot create " + (dir_ / "plain").string() + ": Not a directory");
}

TEST_F(JobManagerStoreTest, DeleteRemovesTheFiles) {
  SilentListener source;
  JobManager manager(Store());
  engine::JobSpec spec = SpecFor(Address(source.port()));
  spec.source.credentials.password = "secret";
  ASSERT_TRUE(manager.Create("doomed", spec).ok());
  EXPECT_TRUE(fs::exists(dir_ / "doomed.json"));
  EXPECT_TRUE(fs::exists(dir_ / "doomed.secret.json"));
  ASSERT_TRUE(manager.Delete("doomed").ok());
  EXPECT_FALSE(fs::exists(dir_ / "doomed.json"));
  EXPECT_FALSE(fs::exists(dir_ / "doomed.state"));
  EXPECT_FALSE(fs::exists(dir_ / "doomed.secret.json"));
}

TEST_F(JobManagerStoreTest, AnUnreadableJobFileIsSetAsideAndReported) {
  SilentListener source;
  {
    JobManager manager(Store());
    ASSERT_TRUE(manager.Create("fine", SpecFor(Address(source.port()))).ok());
  }
  std::ofstream(dir_ / "broken.json") << "{";
  JobManager manager(Store());
  ASSERT_TRUE(manager.Restore().ok());
  std::vector<std::string> problems = manager.restore_problems();
  ASSERT_EQ(problems.size(), 1u);
  const std::string path = (dir_ / "broken.json").string();
  EXPECT_THAT(problems[0], ::testing::StartsWith(path + ": "));
  EXPECT_THAT(problems[0], ::testing::EndsWith("; moved to " + path + ".corrupt"));
  EXPECT_TRUE(fs::exists(path + ".corrupt"));
  ASSERT_EQ(manager.List().size(), 1u);
  EXPECT_EQ(manager.List()[0].id, "fine");
}

// Regression: the manager checked the state itself and refused what the
// engine accepts. Pause of a PAUSED job and Resume of a STREAMING job are OK
// (nothing to do), as engine::Job says.
TEST(JobManagerLiveTest, PauseOfAPausedJobAndResumeOfAStreamingJobAreOk) {
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> source = testing::RedisServer::Start();
  ASSERT_TRUE(source.ok()) << source.status();
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> target = testing::RedisServer::Start();
  ASSERT_TRUE(target.ok()) << target.status();
  JobManager manager(nullptr);
  ASSERT_TRUE(manager.Create("live", SpecFor((*source)->address(), (*target)->address())).ok());
  JobView view = WaitForState(manager, "live", engine::JobState::kStreaming, absl::Seconds(60));
  ASSERT_EQ(view.status.state, engine::JobState::kStreaming)
      << view.status.error << " " << view.status.detail;

  EXPECT_TRUE(manager.Resume("live").ok());  // already streaming
  ASSERT_TRUE(manager.Pause("live").ok());
  ASSERT_EQ(WaitForState(manager, "live", engine::JobState::kPaused).status.state,
            engine::JobState::kPaused);
  absl::StatusOr<JobView> again = manager.Pause("live");
  ASSERT_TRUE(again.ok()) << again.status();  // already paused
  EXPECT_EQ(again->status.state, engine::JobState::kPaused);
  ASSERT_TRUE(manager.Resume("live").ok());
  EXPECT_EQ(WaitForState(manager, "live", engine::JobState::kStreaming).status.state,
            engine::JobState::kStreaming);
  ASSERT_TRUE(manager.Cancel("live").ok());
}

}  // namespace
}  // namespace reshard::server
