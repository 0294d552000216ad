#pragma once

// JobManager: owns the jobs of one reshardd by id. Thread-safe; no method
// waits on a job's I/O (engine::Job methods return at once), except
// WaitForChange, which waits at most `timeout`.
//
// Each running job has a small monitor thread that logs each change of its
// status once (server/job_events.h, through EventLog::Default()) and, with a
// JobStore, persists the job's state (with the last cutover, status.cutover).
// A verification runs on a thread of its own (engine::Verification) and is
// persisted with the job when it ends.
//
// The code: the jobs and their monitors here (job_manager.cc), the restore
// at startup in job_restore.cc, the actions on one job in job_actions.cc;
// JobManager::Entry in job_entry.h.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/job/cutover_report.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/job/verify_report.h"
#include "server/job_store.h"

namespace reshard::server {

// A consistent copy of one job. `spec` still holds passwords: convert with
// SpecToProto before it leaves the process.
struct JobView {
  std::string id;
  engine::JobSpec spec;
  engine::JobStatus status;
  // The verification running now or the last one; nullopt: never verified.
  // (The cutover running now or the last one is status.cutover.)
  std::optional<engine::VerifyReport> last_verification;
};

class JobManager {
 public:
  // `store` may be null (no persistence). `spool_dir` is set as
  // options.spool_dir of every job created or restored (empty: the engine
  // uses the system's temp dir); it is created when a job needs it. With a
  // store, every job records its durable state in store->StateDir(id),
  // fsynced per `fsync`.
  explicit JobManager(std::unique_ptr<JobStore> store, std::string spool_dir = "",
                      engine::FsyncPolicy fsync = engine::FsyncPolicy::kEverySec);
  ~JobManager();  // Shutdown()
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Loads the store's jobs: terminal ones (a DONE job among them) are listed
  // with their last state, cutover and verification; the others are started
  // again (options.restored), their last verification kept: each continues
  // from its durable state where it can (engine/job/resume_phase.h). A job
  // file that cannot be read is moved aside (restore_problems() and the log
  // say so) while the others are restored. FAILED_PRECONDITION when the
  // spool directory cannot be created.
  absl::Status Restore();
  // What Restore set aside: "<path>: <why>; moved to <path>.corrupt".
  std::vector<std::string> restore_problems() const;

  // `spec` must have passed ValidateJobSpec. `id` empty: "job-<8 hex>".
  // INVALID_ARGUMENT for a malformed id, ALREADY_EXISTS for a taken one,
  // UNAVAILABLE after Shutdown, FAILED_PRECONDITION when the spool directory
  // cannot be created ("spool_dir: cannot create DIR: ...").
  absl::StatusOr<JobView> Create(std::string id, engine::JobSpec spec);
  absl::StatusOr<JobView> Get(std::string_view id) const;
  std::vector<JobView> List() const;  // ordered by id
  // As engine::Job decides: Pause is OK on a STREAMING job (-> PAUSED) and on
  // a PAUSED one (nothing to do); Resume is OK on a PAUSED job (-> STREAMING)
  // and on a STREAMING one. FAILED_PRECONDITION in any other state
  // ("job ID is SYNCING; only a STREAMING job can be paused"). The returned
  // view may still show the old state: the change happens on the job's thread.
  absl::StatusOr<JobView> Pause(std::string_view id);
  absl::StatusOr<JobView> Resume(std::string_view id);
  // Any non-terminal state -> CANCELLED; FAILED_PRECONDITION when the job has
  // already ended ("job ID is FAILED; it has already ended").
  absl::StatusOr<JobView> Cancel(std::string_view id);
  // Starts a verification of the job's data (engine::Verification) and
  // returns at once; the view's last_verification is RUNNING. While the job
  // streams, differences are re-checked against its applied offsets. The
  // report is persisted with the job when it ends. INVALID_ARGUMENT for bad
  // options; FAILED_PRECONDITION before the job streams ("job ID is
  // SYNCING; a job is verified once it streams") and while a verification
  // runs ("job ID: a verification is already running").
  absl::StatusOr<JobView> Verify(std::string_view id, engine::VerifyOptions options);
  // Starts a cutover (engine::Job::Cutover) and returns at once: the job
  // goes CUTOVER, then DONE or back to STREAMING (status.cutover says how
  // and why). FAILED_PRECONDITION unless the job is STREAMING or DEGRADED.
  // CUTOVER is persisted before it starts: a job the store says was in
  // CUTOVER is restored FAILED, never started again (it would point promoted
  // targets back at reshardd).
  absl::StatusOr<JobView> Cutover(std::string_view id, const engine::CutoverOptions& options);
  // Moves the job's source (engine::Job::SetSource) and keeps the new
  // address in the job's spec (and its file), so that a restart reads from
  // it; logged as source_moved. INVALID_ARGUMENT for a bad address ("source.address:
  // ..."); FAILED_PRECONDITION as the engine decides, or when the job has ended.
  absl::StatusOr<JobView> SetSource(std::string_view id, const std::string& address);
  // Cancels the job if it still runs, then forgets it (and its files).
  absl::Status Delete(std::string_view id);

  // Returns once the job's status version exceeds `seen_version` or after
  // `timeout`. NOT_FOUND when the job does not exist (or was deleted).
  absl::StatusOr<JobView> WaitForChange(std::string_view id, uint64_t seen_version,
                                        absl::Duration timeout) const;

  // Cancels every job and joins their threads. Idempotent.
  void Shutdown();
  bool shutting_down() const;

  // "job-<lowercase letters/digits/->": 1..63 chars, starts with a letter,
  // does not end with '-'. INVALID_ARGUMENT naming "job_id" otherwise.
  static absl::Status ValidateJobId(std::string_view id);

 private:
  struct Entry;

  absl::StatusOr<std::shared_ptr<Entry>> Find(std::string_view id) const;
  std::shared_ptr<Entry> StartEntry(std::string id, engine::JobSpec spec, bool restored);
  void Monitor(std::shared_ptr<Entry> entry);
  void Persist(const Entry& entry, const engine::JobStatus& status);
  static void StopEntry(Entry& entry);

  // Creates spool_dir_ if it is set and missing.
  absl::Status PrepareSpoolDir() const;
  // Deletes the spool files a killed reshardd left for job `id`.
  void RemoveStaleSpoolFiles(const std::string& id) const;

  const std::unique_ptr<JobStore> store_;
  const std::string spool_dir_;
  const engine::FsyncPolicy fsync_;
  mutable absl::Mutex store_mu_;  // serialises store_ writes
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> jobs_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> restore_problems_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reshard::server
