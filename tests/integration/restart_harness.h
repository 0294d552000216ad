#pragma once

// The harness of restart_test: reshardd as a real process (the built binary,
// with a state dir), started, SIGKILLed and SIGTERMed by PID, driven over
// gRPC; a real source and two managed targets that a job splits by the
// key's first digit (^[0-4] to "left", ^[5-9] to "right"); the write
// workload of target_fault_harness.h; and the end of every case: writes
// stopped, every target caught up, every key, value and TTL compared.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reshard/v1/job_service.grpc.pb.h"
#include "tests/integration/target_fault_harness.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace reshard::integration {

namespace v1 = ::reshard::v1;

// Writes whose keys span the two targets, from a thread of its own until
// Stop(): SET 2:mv:<n>, RENAME it to 7:mv:<n> (left to right: the job
// materialises it) and APPEND to it at once (inside its skip window).
class CrossTargetWrites {
 public:
  explicit CrossTargetWrites(uint16_t port);
  ~CrossTargetWrites();  // Stop()
  void Stop();
  int writes() const { return writes_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> writes_{0};
  std::thread thread_;
};

class ReshardProcess {
 public:
  // reshardd on 127.0.0.1 (a port it picks), no /metrics, --state_dir=`state_dir`;
  // each start's stderr goes to its own file in `log_dir`.
  ReshardProcess(std::string state_dir, std::string log_dir)
      : state_dir_(std::move(state_dir)), log_dir_(std::move(log_dir)) {}
  ~ReshardProcess();  // SIGKILL if still running

  // Starts it and waits until it serves (or exits: the error holds its log).
  absl::Status Start(const std::vector<std::string>& extra_flags = {});
  // Starts another reshardd on the same state dir and returns its exit code
  // and stderr once it ends (it should refuse to start).
  std::pair<int, std::string> RunSecond();
  void Kill();      // SIGKILL, as a crash would; reaped
  int Terminate();  // SIGTERM; the exit code
  pid_t pid() const { return pid_; }
  std::string Log() const;  // the current start's stderr

  absl::StatusOr<v1::Job> Create(const v1::JobSpec& spec, const std::string& id);
  absl::StatusOr<v1::Job> Get(const std::string& id);
  absl::StatusOr<std::vector<v1::Job>> List();
  absl::Status Pause(const std::string& id);
  absl::Status Resume(const std::string& id);
  // VerifyJob: every key (sample 1), unlimited rate.
  absl::Status Verify(const std::string& id);

 private:
  pid_t Spawn(const std::vector<std::string>& extra_flags, const std::string& log);

  const std::string state_dir_;
  const std::string log_dir_;
  pid_t pid_ = -1;
  int starts_ = 0;
  std::string log_path_;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

// One line per job and target state, for failure messages.
std::string Describe(const v1::Job& job);
bool AllStreaming(const v1::Job& job);

class RestartTest : public ::testing::Test {
 protected:
  static constexpr size_t kTargets = 2;
  static const char* const kNames[kTargets];    // "left", "right"
  static const char* const kMarkers[kTargets];  // a key each, written last
  static constexpr char kJob[] = "job-restart";
  static constexpr char kListenerPassword[] = "listener-secret";  // every target's
  // The workload's key space: small, so that the exact compare is quick.
  static constexpr int kWorkloadKeys = 400;

  void TearDown() override;

  // A source (with `source_args` after the defaults) filled with
  // FillNumericDataset(fill_keys), two empty targets, reshardd.
  void StartServers(int fill_keys, std::vector<std::string> source_args = {});
  // The job: both targets managed (reshardd sends them REPLICAOF); its source
  // is source_, unless `source` says otherwise (set on spec_.source).
  void CreateJob(const std::function<void(v1::Endpoint*)>& source = {});
  // Adds target t (kNames[t], ^[0-4] / ^[5-9]) to spec_, managed: targets_[t]
  // replicates from a listener on a port picked now (listen_ports_).
  void AddManagedTarget(size_t t);
  // Polls GetJob until `done` holds (a test failure naming what it saw if
  // not within `timeout`); returns the last job seen.
  v1::Job WaitJob(const std::function<bool(const v1::Job&)>& done, absl::Duration timeout,
                  const std::string& what);
  // The job and every target stream.
  v1::Job WaitAllStreaming(absl::Duration timeout = absl::Seconds(60));
  // The job has read the source up to where it was at the call (its
  // stream flows: the source sends it only after its first ACK).
  void WaitCaughtUp();
  std::string SourceStat(const std::string& field);
  // How often target t's log says it resynced: partially, or in full.
  int PartialResyncs(size_t t) const;
  int FullResyncs(size_t t) const;
  // Stops `workload`, writes a marker per target last, waits until each
  // target has it and the job shows every target caught up, then compares
  // every key, value and TTL of dbs 0 and 1 on the targets `which` (all by
  // default): 0 missing, 0 stray, 0 different.
  void ExpectExactAfterCatchUp(Workload* workload, std::vector<size_t> which = {0, 1});

  testing::TempDir dir_{"restart_test"};
  std::unique_ptr<testing::RedisServer> source_;
  std::vector<std::unique_ptr<testing::RedisServer>> targets_;
  std::optional<testing::RedisClient> source_client_;
  std::vector<uint16_t> listen_ports_;
  v1::JobSpec spec_;
  std::unique_ptr<ReshardProcess> reshardd_;
};

}  // namespace reshard::integration
