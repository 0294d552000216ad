#pragma once

// Verification: one run of VerifyJobData (key_verifier.h) on a thread of its
// own, so that whoever starts it returns at once; its report can be read
// while it runs (state RUNNING, the counts so far, progress and ETA) and
// after. Thread-safe.

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/job/verify_report.h"

namespace reshard::engine {

// The source offset every target has applied, as a verification's
// re-checks wait for it (VerifyOptions::applied_offsets), while the job
// streams (STREAMING, DEGRADED, PAUSED, CUTOVER); nullopt in any other state.
std::optional<std::vector<uint64_t>> AppliedSourceOffsets(const JobStatus& status);

class Verification {
 public:
  // Checks the options (CheckVerifyOptions's INVALID_ARGUMENT) and starts.
  // `on_done` is called on the verification's thread with the final report.
  static absl::StatusOr<std::unique_ptr<Verification>> Start(
      JobSpec spec, VerifyOptions options, std::function<void(const VerifyReport&)> on_done);
  ~Verification();  // cancels and joins
  Verification(const Verification&) = delete;
  Verification& operator=(const Verification&) = delete;

  // The report so far (kRunning), or the final one.
  VerifyReport Snapshot() const;
  bool running() const;
  // Asks the run to stop; it ends kFailed ("cancelled").
  void Cancel() { cancel_ = true; }

 private:
  Verification() = default;
  void Publish(const VerifyReport& report);

  std::atomic<bool> cancel_{false};
  mutable absl::Mutex mu_;
  VerifyReport report_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace reshard::engine
