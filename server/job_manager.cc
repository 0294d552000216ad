#include "server/job_manager.h"

#include <atomic>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/status_macros.h"
#include "engine/job/job.h"
#include "server/event_log.h"
#include "server/job_entry.h"
#include "server/job_events.h"
#include "server/status_redaction.h"

namespace reshard::server {
namespace {

// How often a monitor re-checks its stop flag while the job is quiet.
constexpr absl::Duration kMonitorPoll = absl::Milliseconds(100);

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

bool JobManager::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

}  // namespace reshard::server
