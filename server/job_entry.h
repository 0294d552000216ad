#pragma once

// JobManager::Entry: one job as the manager holds it (its engine::Job, or
// the final status of a job restored ended; its spec, secrets, monitor
// thread, verification). Private to server/job_*.cc.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/job/job.h"
#include "engine/job/verification.h"
#include "server/job_manager.h"
#include "server/status_redaction.h"

namespace reshard::server {

struct JobManager::Entry {
  std::string id;
  // The spec as created; SetSource moves its source address.
  mutable absl::Mutex spec_mu;
  engine::JobSpec spec ABSL_GUARDED_BY(spec_mu);
  engine::JobSpec Spec() const {
    absl::MutexLock lock(&spec_mu);
    return spec;
  }
  std::vector<std::string> secrets;  // SpecSecrets(spec): cut out of every status
  // Null for a job restored in a terminal state: it only has `final_status`.
  std::unique_ptr<engine::Job> job;
  engine::JobStatus final_status;
  std::atomic<bool> stop_monitor{false};
  std::atomic<bool> deleted{false};
  std::thread monitor;
  // The last cutover of a restarted job (the engine's status starts afresh).
  std::optional<engine::CutoverReport> restored_cutover;
  mutable absl::Mutex verify_mu;
  // The last verification as restored from the store, until a new one runs.
  std::optional<engine::VerifyReport> restored_verification ABSL_GUARDED_BY(verify_mu);
  // Last: it is destroyed (cancelled and joined) before what its thread uses.
  std::unique_ptr<engine::Verification> verification ABSL_GUARDED_BY(verify_mu);

  engine::JobStatus Snapshot() const { return Redacted(job ? job->Snapshot() : final_status); }
  engine::JobStatus Redacted(engine::JobStatus status) const {
    RedactSecrets(secrets, &status);
    return status;
  }
  std::optional<engine::VerifyReport> LastVerification() const {
    std::optional<engine::VerifyReport> report;
    {
      absl::MutexLock lock(&verify_mu);
      report = verification != nullptr ? verification->Snapshot() : restored_verification;
    }
    if (report.has_value()) report->error = RedactSecrets(secrets, report->error);
    return report;
  }
  JobView View() const { return ViewWith(Snapshot()); }
  // `status` must be Redacted already.
  JobView ViewWith(engine::JobStatus status) const {
    if (!status.cutover.has_value()) status.cutover = restored_cutover;
    return JobView{id, Spec(), std::move(status), LastVerification()};
  }
  // What a verification reads while the job streams: each target's applied
  // source offset; nullopt once it no longer does.
  std::optional<std::vector<uint64_t>> AppliedOffsets() const {
    if (job == nullptr) return std::nullopt;
    return engine::AppliedSourceOffsets(job->Snapshot());
  }
};

inline std::string StateName(engine::JobState state) {
  return std::string(engine::JobStateName(state));
}

}  // namespace reshard::server
