// JobManager's actions on one job: verify, cut over, move the source,
// pause, resume, cancel, delete (server/job_manager.h).

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "server/event_log.h"
#include "server/job_entry.h"
#include "server/job_manager.h"

namespace reshard::server {

absl::StatusOr<JobView> JobManager::Verify(std::string_view id, engine::VerifyOptions options) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  // Before the job streams, the targets are not complete: there is nothing
  // to verify yet.
  const engine::JobStatus status =
      entry->job != nullptr ? entry->job->Snapshot() : entry->final_status;
  switch (engine::JobState state = status.state) {
    case engine::JobState::kPending:
    case engine::JobState::kConnecting:
    case engine::JobState::kSyncing:
      return absl::FailedPreconditionError(absl::StrCat("job ", entry->id, " is ", StateName(state),
                                                        "; a job is verified once it streams"));
    default:
      break;
  }
  Entry* raw = entry.get();  // the Entry outlives its verification
  options.applied_offsets = [raw] { return raw->AppliedOffsets(); };
  auto on_done = [this, raw](const engine::VerifyReport& report) {
    const bool clean = report.state == engine::VerifyState::kDone && report.problem_count() == 0;
    LogEventLine(
        report.state == engine::VerifyState::kFailed ? LogLevel::kError
        : clean                                      ? LogLevel::kInfo
                                                     : LogLevel::kWarning,
        "verification_ended", raw->id,
        absl::StrCat("verification ", engine::AsAbsl(engine::VerifyStateName(report.state)), ": ",
                     report.keys_checked, " keys checked, ", report.missing, " missing, ",
                     report.stray, " stray, ", report.different, " different, ", report.unsettled,
                     " unsettled",
                     report.error.empty()
                         ? ""
                         : absl::StrCat(" (", RedactSecrets(raw->secrets, report.error), ")")));
    // Not while reshardd shuts down: that state is not the job's to keep.
    if (!raw->stop_monitor.load()) Persist(*raw, raw->Snapshot());
  };
  std::unique_ptr<engine::Verification> previous;
  {
    absl::MutexLock lock(&entry->verify_mu);
    if (entry->verification != nullptr && entry->verification->running()) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", entry->id, ": a verification is already running"));
    }
    // The source is read where the job reads it now: after a failover
    // (set-source, a Sentinel's +switch-master) the new master, with the
    // spec's credentials and TLS, as the job connects to it.
    engine::JobSpec spec = entry->Spec();
    if (!status.source_address.empty()) spec.source.address = status.source_address;
    ASSIGN_OR_RETURN(std::unique_ptr<engine::Verification> started,
                     engine::Verification::Start(std::move(spec), std::move(options), on_done));
    previous = std::move(entry->verification);
    entry->verification = std::move(started);
  }
  previous.reset();  // joined outside the lock: its last callback may take it
  LogEventLine(LogLevel::kInfo, "verification_started", entry->id, "verification started");
  return entry->View();
}

namespace {

// A job restored in a terminal state has no engine::Job to ask; it answers
// as one would: "job ID is FAILED; <why>".
absl::Status HasEnded(const std::string& id, engine::JobState state, const char* why) {
  return absl::FailedPreconditionError(
      absl::StrCat("job ", id, " is ", StateName(state), "; ", why));
}

}  // namespace

absl::StatusOr<JobView> JobManager::Cutover(std::string_view id,
                                            const engine::CutoverOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  if (entry->job == nullptr) {
    return HasEnded(entry->id, entry->final_status.state, "only a STREAMING job can be cut over");
  }
  // Persisted before it starts: a reshardd that stops during the cutover
  // must not start the job again (Restore fails it).
  engine::JobStatus status = entry->job->Snapshot();
  const bool can_start =
      status.state == engine::JobState::kStreaming || status.state == engine::JobState::kDegraded;
  if (can_start) {
    status.state = engine::JobState::kCutover;
    Persist(*entry, status);
  }
  if (absl::Status started = entry->job->Cutover(options); !started.ok()) {
    if (can_start) Persist(*entry, entry->job->Snapshot());
    return started;
  }
  LogEventLine(LogLevel::kInfo, "cutover_started", entry->id,
               absl::StrCat("cutover started (max write pause ",
                            absl::FormatDuration(options.max_write_pause),
                            options.promote ? ", promote" : "",
                            options.leave_source_paused ? ", leave the source paused" : "", ")"));
  return entry->View();
}

absl::StatusOr<JobView> JobManager::SetSource(std::string_view id, const std::string& address) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  if (entry->job == nullptr) {
    return HasEnded(entry->id, entry->final_status.state, "it has already ended");
  }
  const std::string before = entry->Spec().source.address;
  RETURN_IF_ERROR(entry->job->SetSource(address));
  {
    absl::MutexLock lock(&entry->spec_mu);
    entry->spec.source.address = address;
  }
  // Kept at once: a reshardd restarted from here on reads from the new source.
  Persist(*entry, entry->job->Snapshot());
  LogEventLine(
      LogLevel::kInfo, "source_moved", entry->id,
      absl::StrCat("source moved from ", before, " to ", address, "; continuing with PSYNC"));
  return entry->View();
}

// Pause and Resume are the engine's to decide (engine::Job checks the state
// under its own lock, so a check here could only disagree with it).
absl::StatusOr<JobView> JobManager::Pause(std::string_view id) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  if (entry->job == nullptr) {
    return HasEnded(entry->id, entry->final_status.state, "only a STREAMING job can be paused");
  }
  RETURN_IF_ERROR(entry->job->Pause());
  return entry->View();
}

absl::StatusOr<JobView> JobManager::Resume(std::string_view id) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  if (entry->job == nullptr) {
    return HasEnded(entry->id, entry->final_status.state, "only a PAUSED job can be resumed");
  }
  RETURN_IF_ERROR(entry->job->Resume());
  return entry->View();
}

absl::StatusOr<JobView> JobManager::Cancel(std::string_view id) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  // engine::Job::Cancel has no answer (it is a no-op on an ended job), so
  // the refusal of an ended job is the manager's.
  engine::JobState state = entry->Snapshot().state;
  if (entry->job == nullptr || engine::IsTerminal(state)) {
    return HasEnded(entry->id, state, "it has already ended");
  }
  entry->job->Cancel();
  return entry->View();
}

absl::Status JobManager::Delete(std::string_view id) {
  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
      return absl::NotFoundError(absl::StrCat("job ", std::string(id), " not found"));
    }
    entry = std::move(it->second);
    jobs_.erase(it);
  }
  entry->deleted.store(true);
  if (entry->job != nullptr) entry->job->Cancel();
  StopEntry(*entry);
  if (store_ != nullptr) {
    absl::MutexLock lock(&store_mu_);
    absl::Status removed = store_->Remove(entry->id);
    if (!removed.ok()) {
      LogEventLine(LogLevel::kError, "job_delete_failed", entry->id, removed.ToString());
    }
  }
  LogEventLine(LogLevel::kInfo, "job_deleted", entry->id, "deleted");
  // The engine::Job is destroyed (and its thread joined) when the last
  // reference goes, possibly in a WatchJob handler that still holds one.
  return absl::OkStatus();
}

}  // namespace reshard::server
