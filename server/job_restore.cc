// JobManager's restore at startup: every job of the store started again
// where it can continue, or listed as it ended (server/job_manager.h).

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "server/event_log.h"
#include "server/job_entry.h"
#include "server/job_manager.h"

namespace reshard::server {
namespace {

std::string DescribeState(const engine::JobStatus& status) {
  std::string text(engine::JobStateName(status.state));
  if (!status.error.ok()) {
    absl::StrAppend(&text, " (", absl::StatusCodeToString(status.error.code()), ": ",
                    std::string(status.error.message()), ")");
  }
  return text;
}

}  // namespace

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

}  // namespace reshard::server
