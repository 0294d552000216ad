#pragma once

// JobRunner: the thread and event loop behind a Job (job.h), and the state
// machine over its phases (job_context.h lists them). The public methods are
// thread-safe: they post work to the job thread or read the published
// status under a mutex. Internal to engine/job: use Job.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "asio/awaitable.hpp"
#include "engine/job/cutover_report.h"
#include "engine/job/job_context.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"

namespace reshard::engine {

class JobRunner {
 public:
  // `spec` must have passed ValidateJobSpec and outlive the runner.
  JobRunner(std::string id, const JobSpec& spec);
  ~JobRunner();  // cancels and joins

  void Start();
  void Cancel();
  absl::Status Pause();
  absl::Status Resume();
  // Starts a cutover (cutover_phase.h) beside the stream: CUTOVER, then
  // DONE, or back to STREAMING when it rolls back. FAILED_PRECONDITION
  // unless the job is STREAMING or DEGRADED and no cutover runs.
  absl::Status StartCutover(const CutoverOptions& options);
  // Points the job at a new source address (a failover): validated as the
  // spec's source.address would be (INVALID_ARGUMENT naming
  // "source.address"); the job reconnects there with PSYNC of the
  // replication id and offset it followed (source_phase.h). OK at once when
  // it is already the source; during the snapshot (SYNCING) the snapshot
  // starts again from the new source (failover_phase.h).
  // FAILED_PRECONDITION when the job has ended or cuts over.
  absl::Status SetSource(const std::string& address);
  JobStatus Snapshot() const;
  JobStatus WaitForChange(uint64_t seen, absl::Duration timeout) const;

 private:
  // Job thread.
  void ThreadMain();
  asio::awaitable<void> Main();
  // The phases in order; returns the error that ended the job.
  asio::awaitable<absl::Status> Run();
  // The cutover, then DONE or the rollback to the streaming state.
  asio::awaitable<void> CutOver();
  void Finish(JobState state, absl::Status error);
  void Publish();
  // FAILED_PRECONDITION unless the published state is `required`; OK when it
  // is already `target` (pausing a paused job is a no-op).
  absl::Status CheckTransition(JobState required, JobState target, std::string_view verb) const;

  const int64_t created_unix_ms_;
  absl::Status addresses_error_;  // the spec's addresses did not parse
  JobContext job_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  JobStatus status_ ABSL_GUARDED_BY(mu_);
  bool thread_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cutover_running_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace reshard::engine
