#pragma once

// Job: one source, N targets, one upstream sync. Owns a thread that runs the
// job's event loop; every public method is thread-safe and returns without
// waiting on the job's I/O (except the destructor, which joins the thread).

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/job/cutover_report.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"

namespace reshard::engine {

class JobRunner;  // the thread and the phases (engine/job/job_runner.h)

class Job {
 public:
  // `spec` must have passed ValidateJobSpec. A fresh job's managed targets
  // without a replication password get one (GenerateReplicationPasswords).
  Job(std::string id, JobSpec spec);
  ~Job();  // cancels and joins
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  void Start();   // PENDING -> CONNECTING on the job's own thread
  void Cancel();  // -> CANCELLED; closes every link and listener
  // STREAMING -> PAUSED: stops reading the source (ACKs go on, so the source
  // buffers for us up to its client-output-buffer-limit for replicas).
  // FAILED_PRECONDITION in any other state.
  absl::Status Pause();
  // PAUSED -> STREAMING. FAILED_PRECONDITION in any other state.
  absl::Status Resume();
  // Starts a cutover (engine/job/cutover_phase.h) and returns at once: the
  // job is CUTOVER while it runs (status.cutover shows each step), then DONE
  // (every write up to the source's final offset is on every target; the job
  // has let go of the source and the targets), or STREAMING again when it
  // rolled back (status.cutover.error says why). FAILED_PRECONDITION unless
  // the job is STREAMING or DEGRADED and no cutover runs.
  absl::Status Cutover(const CutoverOptions& options);

  // Moves the job to a new source address, e.g. a promoted replica after a
  // failover: continued with PSYNC of the replication id and offset the job
  // followed (status.source_failovers says how). See JobRunner::SetSource.
  absl::Status SetSource(const std::string& address);

  const std::string& id() const { return id_; }
  const JobSpec& spec() const { return spec_; }
  JobStatus Snapshot() const;
  // Blocks until the status version exceeds `seen` or `timeout` passes; returns
  // the current snapshot either way.
  JobStatus WaitForChange(uint64_t seen, absl::Duration timeout) const;

 private:
  const std::string id_;
  const JobSpec spec_;
  std::unique_ptr<JobRunner> runner_;
};

}  // namespace reshard::engine
