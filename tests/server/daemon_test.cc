// Daemon::Start in-process: where jobs spool (--spool_dir, else
// <state_dir>/spool, else the engine's temp dir), a spool directory that
// cannot be created, addresses that are taken, and a state dir another
// daemon holds.

#include "server/daemon.h"

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
#include "tests/support/temp_dir.h"

namespace reshard::server {
namespace {

using ::testing::StartsWith;

std::string Address(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

DaemonOptions Options() {
  DaemonOptions options;
  options.grpc_listen = "127.0.0.1:0";
  options.metrics_listen = "";
  return options;
}

// The spool_dir a job of `daemon` gets (its source is not there).
std::string SpoolDirOfNewJob(Daemon& daemon, const std::string& id) {
  engine::JobSpec spec;
  spec.source.address = Address(testing::PickFreePort());
  engine::TargetSpec target;
  target.name = "a";
  target.filter = {engine::FilterKind::kPrefix, "a:"};
  target.listen = Address(testing::PickFreePort());
  spec.options.connect_attempts = 1;
  spec.targets.push_back(target);
  absl::StatusOr<JobView> job = daemon.manager().Create(id, spec);
  EXPECT_TRUE(job.ok()) << job.status();
  return job.ok() ? job->spec.options.spool_dir : "<no job>";
}

TEST(DaemonTest, JobsSpoolUnderTheStateDirByDefault) {
  testing::TempDir dir("daemon_test");
  DaemonOptions options = Options();
  options.state_dir = dir / "state";
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_TRUE(std::filesystem::is_directory(dir / "state/spool"));
  EXPECT_EQ(SpoolDirOfNewJob(**daemon, "default"), dir / "state/spool");
}

TEST(DaemonTest, SpoolDirFlagWinsAndNoStateDirLeavesItToTheEngine) {
  testing::TempDir dir("daemon_test");
  DaemonOptions options = Options();
  options.state_dir = dir / "state";
  options.spool_dir = dir / "fast/spool";
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_TRUE(std::filesystem::is_directory(dir / "fast/spool"));
  EXPECT_FALSE(std::filesystem::exists(dir / "state/spool"));
  EXPECT_EQ(SpoolDirOfNewJob(**daemon, "flagged"), dir / "fast/spool");

  absl::StatusOr<std::unique_ptr<Daemon>> plain = Daemon::Start(Options());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(SpoolDirOfNewJob(**plain, "plain"), "");
}

TEST(DaemonTest, AnUncreatableSpoolDirFailsStart) {
  testing::TempDir dir("daemon_test");
  std::ofstream(dir / "file") << "x";
  DaemonOptions options = Options();
  options.spool_dir = dir / "file/spool";
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
  ASSERT_FALSE(daemon.ok());
  EXPECT_EQ(daemon.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(daemon.status().message(),
            "spool_dir: cannot create " + (dir / "file/spool") + ": Not a directory");
}

TEST(DaemonTest, ASecondDaemonOnTheSameStateDirRefusesNamingTheHolder) {
  testing::TempDir dir("daemon_test");
  DaemonOptions options = Options();
  options.state_dir = dir / "state";
  absl::StatusOr<std::unique_ptr<Daemon>> first = Daemon::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<Daemon>> second = Daemon::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("--state_dir ", dir / "state", " is in use by another reshardd (PID ",
                         getpid(), ", holding ", dir / "state/LOCK",
                         "): two processes must not drive the same jobs"));
  first->reset();  // released with its holder
  absl::StatusOr<std::unique_ptr<Daemon>> third = Daemon::Start(options);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(DaemonTest, TakenPortsFailStartWithTheAddress) {
  DaemonOptions first_options = Options();
  first_options.metrics_listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Daemon>> first = Daemon::Start(first_options);
  ASSERT_TRUE(first.ok()) << first.status();
  DaemonOptions options;
  options.grpc_listen = Address((*first)->grpc_port());
  options.metrics_listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Daemon>> second = Daemon::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(), "gRPC: cannot listen on " + options.grpc_listen);

  options.grpc_listen = "127.0.0.1:0";
  options.metrics_listen = Address((*first)->metrics_port());
  second = Daemon::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              StartsWith("metrics: cannot listen on " + options.metrics_listen + ": "));
}

}  // namespace
}  // namespace reshard::server
