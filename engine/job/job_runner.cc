#include "engine/job/job_runner.h"

#include <pthread.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/post.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/backlog_advisor.h"
#include "engine/job/cluster_target_phase.h"
#include "engine/job/cutover_phase.h"
#include "engine/job/durable_state.h"
#include "engine/job/failover_phase.h"
#include "engine/job/job_health.h"
#include "engine/job/job_status_builder.h"
#include "engine/job/job_ticker.h"
#include "engine/job/resume_phase.h"
#include "engine/job/snapshot_phase.h"
#include "engine/job/source_phase.h"
#include "engine/job/stream_phase.h"
#include "engine/job/target_phase.h"

namespace reshard::engine {
namespace {

JobAddresses AddressesOf(const JobSpec& spec, absl::Status* error) {
  absl::StatusOr<JobAddresses> addresses = ResolveJobAddresses(spec);
  if (addresses.ok()) return *std::move(addresses);
  *error = addresses.status();
  return JobAddresses{};
}

}  // namespace

JobRunner::JobRunner(std::string id, const JobSpec& spec)
    : created_unix_ms_(absl::ToUnixMillis(absl::Now())),
      job_(
          std::move(id), spec, AddressesOf(spec, &addresses_error_),
          JobContext::Hooks{
              .publish = [this] { Publish(); },
              .fail = [this](absl::Status status) { Finish(JobState::kFailed, std::move(status)); },
          }) {
  absl::MutexLock lock(&mu_);
  status_.state = JobState::kPending;
  status_.created_unix_ms = created_unix_ms_;
  status_.updated_unix_ms = created_unix_ms_;
  for (const TargetSpec& target : spec.targets) {
    TargetStatus t;
    t.name = target.name;
    status_.targets.push_back(t);
  }
}

JobRunner::~JobRunner() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

void JobRunner::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { ThreadMain(); });
}

void JobRunner::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal(status_.state)) return;
    if (!thread_.joinable() || thread_done_) {
      status_.state = JobState::kCancelled;
      status_.detail = "cancelled";
      status_.updated_unix_ms = absl::ToUnixMillis(absl::Now());
      ++status_.version;
      return;
    }
  }
  asio::post(job_.io, [this] { Finish(JobState::kCancelled, absl::OkStatus()); });
}

absl::Status JobRunner::CheckTransition(JobState required, JobState target,
                                        std::string_view verb) const {
  absl::MutexLock lock(&mu_);
  if (status_.state == target) return absl::OkStatus();
  // A DEGRADED job streams too: it can be paused (and is resumed to STREAMING).
  bool streaming = required == JobState::kStreaming && status_.state == JobState::kDegraded;
  if (status_.state != required && !streaming) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_.id, " is ", AsAbsl(JobStateName(status_.state)), "; only a ",
                     AsAbsl(JobStateName(required)), " job can be ", AsAbsl(verb)));
  }
  return absl::OkStatus();
}

absl::Status JobRunner::Pause() {
  RETURN_IF_ERROR(CheckTransition(JobState::kStreaming, JobState::kPaused, "paused"));
  asio::post(job_.io, [this] {
    if (job_.finished || job_.paused) return;
    if (job_.state != JobState::kStreaming && job_.state != JobState::kDegraded) return;
    job_.paused = true;
    for (auto& target : job_.targets) target->SetDeliveryPaused(true);
    RecordJobState(job_);  // a restart keeps it paused
    job_.SetState(JobState::kPaused,
                  "paused: reading the source; the targets' streams wait in their spools");
  });
  return absl::OkStatus();
}

absl::Status JobRunner::Resume() {
  RETURN_IF_ERROR(CheckTransition(JobState::kPaused, JobState::kStreaming, "resumed"));
  asio::post(job_.io, [this] {
    if (job_.finished || !job_.paused) return;
    job_.paused = false;
    for (auto& target : job_.targets) target->SetDeliveryPaused(false);
    RecordJobState(job_);
    job_.SetState(JobState::kStreaming,
                  absl::StrCat("streaming; ", job_.source.command_table_note));
    job_.wake.cancel();
  });
  return absl::OkStatus();
}

absl::Status JobRunner::StartCutover(const CutoverOptions& options) {
  {
    absl::MutexLock lock(&mu_);
    if (cutover_running_ || status_.state == JobState::kCutover) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_.id, ": a cutover is already running"));
    }
    if (status_.state != JobState::kStreaming && status_.state != JobState::kDegraded) {
      return absl::FailedPreconditionError(absl::StrCat("job ", job_.id, " is ",
                                                        AsAbsl(JobStateName(status_.state)),
                                                        "; only a STREAMING job can be cut over"));
    }
    cutover_running_ = true;
  }
  asio::post(job_.io, [this, options] {
    CutoverReport report;
    report.options = options;
    report.started_unix_ms = absl::ToUnixMillis(absl::Now());
    for (size_t i = 0; i < job_.spec.targets.size(); ++i) {
      CutoverTargetReport target;
      target.name = job_.spec.targets[i].name;
      target.managed = job_.addresses.replica[i].has_value();
      target.cluster = job_.spec.targets[i].cluster.has_value();
      report.targets.push_back(std::move(target));
    }
    job_.cutover = std::move(report);
    if (job_.finished ||
        (job_.state != JobState::kStreaming && job_.state != JobState::kDegraded)) {
      job_.cutover->state = CutoverState::kRolledBack;
      job_.cutover->error =
          absl::StrCat("cutover step 1 (start): the job is ", AsAbsl(JobStateName(job_.state)));
      job_.cutover->finished_unix_ms = absl::ToUnixMillis(absl::Now());
      {
        absl::MutexLock lock(&mu_);
        cutover_running_ = false;
      }
      Publish();
      return;
    }
    job_.SetState(JobState::kCutover, "cutover step 1: starting");
    asio::co_spawn(job_.io, CutOver(), asio::detached);
  });
  return absl::OkStatus();
}

asio::awaitable<void> JobRunner::CutOver() {
  absl::Status status = co_await RunCutover(job_);
  if (job_.finished) co_return;
  job_.cutover->finished_unix_ms = absl::ToUnixMillis(absl::Now());
  if (status.ok()) {
    job_.cutover->state = CutoverState::kDone;
    Finish(JobState::kDone, absl::OkStatus());
  } else {
    job_.cutover->state = CutoverState::kRolledBack;
    job_.cutover->error = std::string(status.message());
    // Back to what the job is; RefreshStreamingState corrects it to
    // DEGRADED when a target does not receive its stream.
    job_.SetState(JobState::kStreaming,
                  absl::StrCat("streaming; the cutover rolled back: ", status.message()));
    RefreshStreamingState(job_);
  }
  absl::MutexLock lock(&mu_);
  cutover_running_ = false;
}

absl::Status JobRunner::SetSource(const std::string& address) {
  JobSpec moved = job_.spec;
  moved.source.address = address;
  RETURN_IF_ERROR(ValidateJobSpec(moved));
  ASSIGN_OR_RETURN(JobAddresses addresses, ResolveJobAddresses(moved));
  {
    absl::MutexLock lock(&mu_);
    const JobState state = status_.state;
    if (IsTerminal(state) || state == JobState::kCutover) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_.id, " is ", AsAbsl(JobStateName(state)),
                       IsTerminal(state) ? "; it has already ended"
                                         : "; the source cannot be moved during a cutover"));
    }
  }
  asio::post(job_.io, [this, endpoint = std::move(addresses.source)]() mutable {
    MoveSource(job_, std::move(endpoint), "asked for (set-source)");
  });
  return absl::OkStatus();
}

JobStatus JobRunner::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

JobStatus JobRunner::WaitForChange(uint64_t seen, absl::Duration timeout) const {
  auto changed = [this, seen]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return status_.version > seen; };
  mu_.LockWhenWithTimeout(absl::Condition(&changed), timeout);
  JobStatus copy = status_;
  mu_.Unlock();
  return copy;
}

void JobRunner::ThreadMain() {
  std::string thread_name = ("job-" + job_.id).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  asio::co_spawn(job_.io, Main(), [this](std::exception_ptr error) {
    if (error == nullptr) return;
    std::string what = "unknown";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    Finish(JobState::kFailed, absl::InternalError(absl::StrCat("unexpected exception: ", what)));
  });
  job_.io.run();
  // Tear down on this thread, where every socket and timer lives.
  job_.router.reset();
  job_.splitter.reset();
  if (job_.monitor != nullptr) job_.monitor->Close();
  if (job_.sentinel != nullptr) job_.sentinel->Close();
  if (job_.upstream != nullptr) job_.upstream->Close();
  for (auto& target : job_.targets) target->Close();
  for (auto& applier : job_.cluster_appliers) {
    if (applier != nullptr) applier->Stop();
  }
  job_.source_pause.reset();
  absl::MutexLock lock(&mu_);
  thread_done_ = true;
}

asio::awaitable<void> JobRunner::Main() {
  asio::co_spawn(job_.io, RunJobTicker(job_, [this] { Publish(); }), asio::detached);
  asio::co_spawn(job_.io, RunBacklogAdvisor(job_), asio::detached);
  absl::Status status = co_await Run();
  if (!job_.finished) Finish(status.ok() ? JobState::kCancelled : JobState::kFailed, status);
}

asio::awaitable<absl::Status> JobRunner::Run() {
  CO_RETURN_IF_ERROR(addresses_error_);
  job_.SetState(JobState::kConnecting, "opening target listeners");
  OpenDurableState(job_);
  CO_RETURN_IF_ERROR(OpenListeners(job_));
  CO_RETURN_IF_ERROR(co_await ConnectSource(job_));
  co_await LearnSource(job_);
  if (job_.spec.options.restored) {
    CO_RETURN_IF_ERROR(co_await CheckRestoredTargets(job_));
    bool continued = false;
    if (job_.restored.has_value()) {
      CO_ASSIGN_OR_RETURN(continued, co_await ResumeFromCheckpoint(job_));
    } else if (job_.restore_detail.empty()) {
      job_.restore_detail =
          "full sync of every target after a restart: nothing was recorded (reshardd stopped "
          "before the job's first snapshot was complete)";
    }
    SettleFailoverAfterRestart(job_, continued);
    if (continued) {
      // Cluster targets resync in full beside the stream (RestoreStreams).
      CO_RETURN_IF_ERROR(co_await StartClusterAppliers(job_));
      co_return co_await StreamCommands(job_);
    }
  }
  CO_RETURN_IF_ERROR(co_await ConfigureManagedTargets(job_));
  CO_RETURN_IF_ERROR(co_await StartClusterAppliers(job_));
  CO_RETURN_IF_ERROR(co_await WaitForTargets(job_));
  CO_RETURN_IF_ERROR(StartFreshDurableState(job_));
  // A failover during the snapshot starts it again from the new source.
  for (absl::Status synced = co_await SyncSnapshot(job_); !synced.ok();
       synced = co_await SyncSnapshot(job_)) {
    CO_RETURN_IF_ERROR(co_await RestartSnapshotOnNewSource(job_, std::move(synced)));
  }
  co_return co_await StreamCommands(job_);
}

void JobRunner::Finish(JobState state, absl::Status error) {
  if (job_.finished) return;
  // What the stream reached is on disk before anything closes.
  FlushDurableState(job_);
  job_.finished = true;
  job_.state = state;
  job_.detail = state == JobState::kCancelled ? "cancelled" : std::string(error.message());
  if (state == JobState::kDone && job_.cutover.has_value()) {
    job_.detail =
        absl::StrFormat("cut over at source offset %d; write pause %.1f ms%s",
                        job_.cutover->final_offset, job_.cutover->write_pause_ms,
                        job_.cutover->source_left_paused ? "; the source is still paused" : "");
  }
  // A pause a cutover holds ends with the job (a cancelled cutover).
  if (job_.source_pause != nullptr) job_.source_pause->ReleaseNow();
  if (job_.upstream != nullptr) job_.upstream->Close();
  if (job_.monitor != nullptr) job_.monitor->Close();
  if (job_.sentinel != nullptr) job_.sentinel->Close();
  for (auto& target : job_.targets) target->Close();
  for (auto& applier : job_.cluster_appliers) {
    if (applier != nullptr) applier->Stop();
  }
  job_.wake.cancel();
  job_.resync_wake.cancel();
  {
    absl::MutexLock lock(&mu_);
    status_.error = error;
  }
  Publish();
  job_.io.stop();
}

void JobRunner::Publish() {
  // Every change of the failover history is published: kept here first, so
  // that what a status showed survives a restart.
  RecordFailoverHistory(job_);
  uint64_t previous_rdb_bytes_read;
  {
    absl::MutexLock lock(&mu_);
    previous_rdb_bytes_read = status_.rdb_bytes_read;
  }
  JobStatus status = BuildJobStatus(job_, previous_rdb_bytes_read, created_unix_ms_);
  absl::MutexLock lock(&mu_);
  status.error = status_.error;
  status.version = status_.version + 1;
  status_ = std::move(status);
}

}  // namespace reshard::engine
