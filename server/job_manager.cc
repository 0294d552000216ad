#include "server/job_manager.h"

#include <atomic>
#include <filesystem>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/job.h"
#include "engine/job/verification.h"
#include "server/event_log.h"
#include "server/job_events.h"
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

namespace {

// How often a monitor re-checks its stop flag while the job is quiet.
constexpr absl::Duration kMonitorPoll = absl::Milliseconds(100);

std::string StateName(engine::JobState state) { return std::string(engine::JobStateName(state)); }

std::string DescribeState(const engine::JobStatus& status) {
  std::string text(engine::JobStateName(status.state));
  if (!status.error.ok()) {
    absl::StrAppend(&text, " (", absl::StatusCodeToString(status.error.code()), ": ",
                    std::string(status.error.message()), ")");
  }
  return text;
}

}  // namespace

JobManager::JobManager(std::unique_ptr<JobStore> store, std::string spool_dir,
                       engine::FsyncPolicy fsync)
    : store_(std::move(store)), spool_dir_(std::move(spool_dir)), fsync_(fsync) {}

absl::Status JobManager::PrepareSpoolDir() const {
  if (spool_dir_.empty()) return absl::OkStatus();
  std::error_code error;
  std::filesystem::create_directories(spool_dir_, error);
  if (!error && !std::filesystem::is_directory(spool_dir_, error)) {
    error = std::make_error_code(std::errc::not_a_directory);
  }
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("spool_dir: cannot create ", spool_dir_, ": ", error.message()));
  }
  return absl::OkStatus();
}

JobManager::~JobManager() { Shutdown(); }

absl::Status JobManager::ValidateJobId(std::string_view id) {
  auto invalid = [&](const char* why) {
    return absl::InvalidArgumentError(absl::StrCat("job_id: '", std::string(id), "' ", why));
  };
  if (id.empty() || id.size() > 63) return invalid("must be 1 to 63 characters long");
  if (id.front() < 'a' || id.front() > 'z') return invalid("must start with a lowercase letter");
  if (id.back() == '-') return invalid("must not end with '-'");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return invalid("may contain only lowercase letters, digits and '-'");
  }
  return absl::OkStatus();
}

std::shared_ptr<JobManager::Entry> JobManager::StartEntry(std::string id, engine::JobSpec spec,
                                                          bool restored) {
  auto entry = std::make_shared<Entry>();
  entry->id = std::move(id);
  spec.options.spool_dir = spool_dir_;
  spec.options.fsync = fsync_;
  spec.options.restored = restored;
  if (store_ != nullptr) spec.options.state_dir = store_->StateDir(entry->id);
  {
    absl::MutexLock lock(&entry->spec_mu);
    entry->spec = spec;
  }
  entry->secrets = SpecSecrets(spec);
  entry->job = std::make_unique<engine::Job>(entry->id, std::move(spec));
  entry->job->Start();
  entry->monitor = std::thread([this, entry] { Monitor(entry); });
  return entry;
}

// Logs every change between two published statuses (server/job_events.h)
// and persists each change of the job's state.
void JobManager::Monitor(std::shared_ptr<Entry> entry) {
  uint64_t seen = 0;
  std::optional<engine::JobStatus> previous;
  while (!entry->stop_monitor.load()) {
    engine::JobStatus status = entry->Redacted(entry->job->WaitForChange(seen, kMonitorPoll));
    if (status.version == seen) continue;
    seen = status.version;
    if (entry->stop_monitor.load()) break;
    for (const LogEvent& event :
         JobStatusEvents(entry->id, previous ? &*previous : nullptr, status)) {
      EventLog::Default().Write(event);
    }
    // A cutover may pass between two looks at the state: its end is noted by
    // its report (and a rollback persisted: the file said CUTOVER).
    const engine::JobState last = previous ? previous->state : engine::JobState::kPending;
    const bool cutover_ended = CutoverEnded(previous ? &*previous : nullptr, status);
    if (status.state != last || cutover_ended) Persist(*entry, status);
    const bool ended = engine::IsTerminal(status.state);
    previous = std::move(status);
    if (ended) break;
  }
}

void JobManager::Persist(const Entry& entry, const engine::JobStatus& unredacted) {
  if (store_ == nullptr || entry.deleted.load()) return;
  const engine::JobStatus status = entry.Redacted(unredacted);
  StoredJob stored;
  stored.id = entry.id;
  stored.spec = entry.Spec();
  stored.state = status.state;
  stored.error = status.error;
  stored.detail = status.detail;
  stored.created_unix_ms = status.created_unix_ms;
  stored.updated_unix_ms = status.updated_unix_ms;
  stored.last_cutover = status.cutover.has_value() ? status.cutover : entry.restored_cutover;
  stored.last_verification = entry.LastVerification();
  absl::MutexLock lock(&store_mu_);
  if (entry.deleted.load()) return;  // Delete removed the files meanwhile
  absl::Status saved = store_->Save(stored);
  if (!saved.ok()) {
    LogEventLine(LogLevel::kError, "job_persist_failed", entry.id,
                 absl::StrCat("cannot persist the job: ", saved.ToString()));
  }
}

void JobManager::StopEntry(Entry& entry) {
  entry.stop_monitor.store(true);
  if (entry.monitor.joinable()) entry.monitor.join();
}

absl::Status JobManager::Restore() {
  RETURN_IF_ERROR(PrepareSpoolDir());
  if (store_ == nullptr) return absl::OkStatus();
  std::vector<StoredJob> stored;
  std::vector<std::string> set_aside;
  {
    absl::MutexLock lock(&store_mu_);
    ASSIGN_OR_RETURN(stored, store_->LoadAll(&set_aside));
  }
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return absl::UnavailableError("reshardd is shutting down");
  for (const std::string& problem : set_aside) {
    LogEventLine(LogLevel::kError, "job_not_restored", "",
                 absl::StrCat("cannot restore a job: ", problem));
    restore_problems_.push_back(problem);
  }
  for (StoredJob& job : stored) {
    if (jobs_.contains(job.id)) continue;
    if (!job.secrets_error.ok()) {
      // Its passwords cannot be read: listed FAILED, not started, and not
      // persisted so, so that a restart with the right key restores it.
      job.state = engine::JobState::kFailed;
      job.error = job.secrets_error;
      job.detail = "not restored: its secret file cannot be read";
    } else if (job.state == engine::JobState::kCutover) {
      // Started again, the job would point promoted targets back at reshardd
      // and resync them over what they took since: never.
      job.state = engine::JobState::kFailed;
      job.error = absl::FailedPreconditionError(
          "reshardd stopped during a cutover: the source may have been paused and the targets "
          "promoted; check them, then delete this job (a new job makes a new full sync)");
    }
    if (engine::IsTerminal(job.state)) {
      auto entry = std::make_shared<Entry>();
      entry->id = job.id;
      {
        absl::MutexLock spec_lock(&entry->spec_mu);
        entry->spec = std::move(job.spec);
        entry->secrets = SpecSecrets(entry->spec);
      }
      entry->final_status.state = job.state;
      entry->final_status.error = job.error;
      entry->final_status.detail = job.detail;
      entry->final_status.created_unix_ms = job.created_unix_ms;
      entry->final_status.updated_unix_ms = job.updated_unix_ms;
      entry->final_status.cutover = std::move(job.last_cutover);
      entry->final_status.version = 1;
      {
        absl::MutexLock verify_lock(&entry->verify_mu);
        entry->restored_verification = std::move(job.last_verification);
      }
      for (const engine::TargetSpec& target : entry->Spec().targets) {
        engine::TargetStatus status;
        status.name = target.name;
        entry->final_status.targets.push_back(std::move(status));
      }
      if (job.secrets_error.ok()) {
        LogEventLine(LogLevel::kInfo, "job_restored", job.id,
                     absl::StrCat("restored as ", DescribeState(entry->final_status)));
      } else {
        LogEventLine(LogLevel::kError, "job_restore_failed", job.id,
                     absl::StrCat("cannot restore the job: ", job.secrets_error.ToString()));
      }
      jobs_[job.id] = std::move(entry);
    } else {
      LogEventLine(LogLevel::kInfo, "job_restored", job.id,
                   absl::StrCat("restored, restarting (was ", StateName(job.state), ")"));
      std::string id = job.id;
      RemoveStaleSpoolFiles(id);
      std::shared_ptr<Entry> entry = StartEntry(id, std::move(job.spec), /*restored=*/true);
      entry->restored_cutover = std::move(job.last_cutover);
      {
        absl::MutexLock verify_lock(&entry->verify_mu);
        entry->restored_verification = std::move(job.last_verification);
      }
      jobs_[id] = std::move(entry);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<JobView> JobManager::Create(std::string id, engine::JobSpec spec) {
  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return absl::UnavailableError("reshardd is shutting down");
    if (id.empty()) {
      absl::BitGen gen;
      do {
        id = absl::StrFormat("job-%08x", absl::Uniform<uint32_t>(gen));
      } while (jobs_.contains(id));
    } else {
      RETURN_IF_ERROR(ValidateJobId(id));
      if (jobs_.contains(id)) {
        return absl::AlreadyExistsError(absl::StrCat("job ", id, " already exists"));
      }
    }
    RETURN_IF_ERROR(PrepareSpoolDir());
    if (store_ != nullptr) {
      StoredJob stored;
      stored.id = id;
      stored.spec = spec;
      absl::MutexLock store_lock(&store_mu_);
      // A new job never continues what an old one of the same id left.
      RETURN_IF_ERROR(store_->ClearState(id));
      RETURN_IF_ERROR(store_->Save(stored));
    }
    // Logged before the job starts, so that it precedes the job's first
    // state change in the log.
    LogEventLine(LogLevel::kInfo, "job_created", id,
                 absl::StrCat("created with ", spec.targets.size(), " target(s), source ",
                              spec.source.address));
    entry = StartEntry(id, std::move(spec), /*restored=*/false);
    jobs_[id] = entry;
  }
  return entry->View();
}

absl::StatusOr<std::shared_ptr<JobManager::Entry>> JobManager::Find(std::string_view id) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job ", std::string(id), " not found"));
  }
  return it->second;
}

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

absl::StatusOr<JobView> JobManager::Get(std::string_view id) const {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  return entry->View();
}

std::vector<JobView> JobManager::List() const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : jobs_) entries.push_back(entry);
  }
  std::vector<JobView> views;
  views.reserve(entries.size());
  for (const auto& entry : entries) views.push_back(entry->View());
  return views;
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

absl::StatusOr<JobView> JobManager::WaitForChange(std::string_view id, uint64_t seen_version,
                                                  absl::Duration timeout) const {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(id));
  if (entry->job == nullptr) {
    // A restored terminal job never changes; sleep so callers do not spin.
    if (entry->final_status.version <= seen_version) absl::SleepFor(timeout);
    return entry->View();
  }
  engine::JobStatus status = entry->Redacted(entry->job->WaitForChange(seen_version, timeout));
  if (entry->deleted.load()) {
    return absl::NotFoundError(absl::StrCat("job ", entry->id, " was deleted"));
  }
  return entry->ViewWith(std::move(status));
}

void JobManager::Shutdown() {
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> jobs;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    jobs.swap(jobs_);
  }
  // Stop the monitors first, so that the cancellation below is not persisted:
  // the next start restarts these jobs. (A verification ending now is not
  // persisted either: it checks stop_monitor.)
  for (auto& [id, entry] : jobs) StopEntry(*entry);
  for (auto& [id, entry] : jobs) {
    if (entry->job != nullptr) entry->job->Cancel();
  }
  jobs.clear();  // joins the job threads
}

std::vector<std::string> JobManager::restore_problems() const {
  absl::MutexLock lock(&mu_);
  return restore_problems_;
}

void JobManager::RemoveStaleSpoolFiles(const std::string& id) const {
  // A process that was killed left its spool files (Spool deletes them only
  // when it ends cleanly); the restored job writes new ones.
  if (spool_dir_.empty()) return;
  const std::string prefix = absl::StrCat("reshard-", id, "-");
  std::error_code error;
  for (const auto& file : std::filesystem::directory_iterator(spool_dir_, error)) {
    if (file.path().filename().string().rfind(prefix, 0) == 0) {
      std::filesystem::remove(file.path(), error);
    }
  }
}

bool JobManager::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

}  // namespace reshard::server
