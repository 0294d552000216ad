#pragma once

// The harness of target_faults_test: a real source and three real targets
// that a job splits by the key's first digit (^[0-3] to "left", ^[4-6] to
// "middle", ^[7-9] to "right"); a write workload in a background thread; a
// recorder of the states the job and its targets go through; and the end of
// every fault: writes stopped, every target caught up, every key, value and
// TTL compared.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/job/job.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"

namespace reshard::integration {

// Mixed writes (SET of `value_bytes`-byte values, INCR, HSET, LPUSH + LTRIM,
// EXPIRE, PEXPIRE, SET EX, DEL) over `keys` keys (3000 by default) per db in
// dbs 0 and 1 (or db 0 alone), in batches of about 150 commands, from a thread of its own
// until Stop().
class Workload {
 public:
  // Writes to dbs [0, dbs): 1 for a job with a cluster target (db 0 only).
  Workload(uint16_t port, size_t value_bytes, int keys = 3000, int dbs = 2);
  ~Workload();  // Stop()
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void Stop();
  int rounds() const { return rounds_.load(); }
  // Waits until `n` more batches ran; a test failure if not within 30 s.
  void WaitRounds(int n);

 private:
  void Run(uint16_t port);

  size_t value_bytes_;
  int keys_;
  int dbs_;
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;
};

// Records, from a thread of its own, every state a job and its targets pass
// through (consecutive repeats folded), the details published with each job
// state, and the largest spool figures of each target. The job must outlive
// the recorder.
class StateRecorder {
 public:
  explicit StateRecorder(const engine::Job* job);
  ~StateRecorder();  // stops and joins
  StateRecorder(const StateRecorder&) = delete;
  StateRecorder& operator=(const StateRecorder&) = delete;

  std::vector<engine::TargetState> TargetStates(size_t target) const;
  bool SawTarget(size_t target, engine::TargetState state) const;
  // "STREAMING DISCONNECTED RESYNCING ...", for failure messages.
  std::string TargetHistory(size_t target) const;
  // Whether the job was in `state` with a detail that holds `text`.
  bool SawJob(engine::JobState state, const std::string& text) const;
  std::string JobHistory() const;  // "STREAMING, DEGRADED (<detail>; ...), ..."
  uint64_t max_spool_bytes(size_t target) const;
  uint64_t max_spool_disk_bytes(size_t target) const;

 private:
  void Record(const engine::JobStatus& status);

  const engine::Job* job_;
  mutable absl::Mutex mu_;
  std::vector<engine::JobState> job_states_ ABSL_GUARDED_BY(mu_);
  std::map<engine::JobState, std::vector<std::string>> details_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<engine::TargetState>> target_states_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> max_spool_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> max_spool_disk_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The largest omem= of the source's replica connections (CLIENT LIST TYPE
// replica); NOT_FOUND when there is none.
absl::StatusOr<uint64_t> ReplicaOutputMemory(testing::RedisClient& source);

// From the state where it lost its stream on (DISCONNECTED, CUT_OFF, ...),
// `states` never goes back (then RESYNCING, SNAPSHOT, LOADING, STREAMING)
// and ends streaming. (A short snapshot may pass between two published
// statuses, so SNAPSHOT need not be seen; each case checks the resync count.)
void ExpectResyncPath(const std::vector<engine::TargetState>& states, const std::string& history);

// This process's resident memory (VmRSS; the job under test runs in it), 0
// when unreadable.
uint64_t ResidentBytes();
// master_repl_offset of INFO replication.
absl::StatusOr<uint64_t> MasterReplOffset(testing::RedisClient& source);
// One line per job and target state, offsets and spool, for failure messages.
std::string Describe(const engine::JobStatus& status);

class TargetFaultsTest : public ::testing::Test {
 protected:
  static constexpr size_t kTargets = 3;
  static const char* const kNames[kTargets];  // "left", "middle", "right"
  static const char* const kMarkers[kTargets];

  void TearDown() override;  // SIGCONT to every target left stopped

  // A source (64 MB backlog) filled with FillNumericDataset(fill_keys), and
  // three empty targets.
  void StartServers(int fill_keys);
  // Starts the job (spec_.options as the test set them); with `managed`
  // reshardd sends the targets REPLICAOF, else AttachTarget does. Managed
  // targets get kListenerPassword as their replication password.
  void StartJob(const std::string& id, bool managed = true);
  // The job's status once it streams with every target streaming; a test
  // failure naming what it saw if not within `timeout`.
  engine::JobStatus WaitAllStreaming(absl::Duration timeout = absl::Seconds(60));
  // Polls the job's status until `done` holds it; a test failure if not.
  engine::JobStatus WaitStatus(const std::function<bool(const engine::JobStatus&)>& done,
                               absl::Duration timeout, const std::string& what);
  // REPLICAOF the target's listener, sent by the test.
  void AttachTarget(size_t t);  // CONFIG SET masterauth when the spec has a password, REPLICAOF
  static constexpr char kListenerPassword[] = "listener-secret";
  // kill -9, its files removed, started again empty on the same port and
  // pointed at its listener again.
  void RestartEmpty(size_t t);
  void StopTarget(size_t t);      // SIGSTOP
  void ContinueTarget(size_t t);  // SIGCONT
  // A source stat of INFO stats, e.g. "sync_full".
  std::string SourceStat(const std::string& field);
  // Stops `workload`, waits until every target applied everything the source
  // has (markers, then offsets and acknowledgements), then compares every
  // key, value and TTL of dbs 0 and 1: 0 missing, 0 stray, 0 different.
  void ExpectExactAfterCatchUp(Workload* workload);

  std::unique_ptr<testing::RedisServer> source_;
  std::vector<std::unique_ptr<testing::RedisServer>> targets_;
  std::optional<testing::RedisClient> source_client_;
  std::vector<uint16_t> listen_ports_;
  std::vector<bool> stopped_ = std::vector<bool>(kTargets, false);
  engine::JobSpec spec_;
  std::unique_ptr<engine::Job> job_;  // destroyed before the servers
};

}  // namespace reshard::integration
