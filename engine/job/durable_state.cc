#include "engine/job/durable_state.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/io/atomic_file.h"

namespace reshard::engine {
namespace {

constexpr char kReplicaOfFile[] = "replicaof";
constexpr char kFailoversFile[] = "source_failovers";

std::string FailoversPath(const JobContext& job) {
  return absl::StrCat(job.spec.options.state_dir, "/", kFailoversFile);
}

// What a previous reshardd recorded (none in a state dir from before; a
// damaged file is said in the status's restore_detail: the history is for the status
// only, the stream does not depend on it).
void LoadFailoverHistory(JobContext& job) {
  std::ifstream in(FailoversPath(job));
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<FailoverHistory> history = DecodeFailoverHistory(text.str());
  if (!history.ok()) {
    job.failover_history_problem =
        absl::StrCat("the failover history was not restored: ", history.status().message());
    return;
  }
  job.source.failover_history = *std::move(history);
}

std::string ReplicaOfPath(const JobContext& job) {
  return absl::StrCat(job.spec.options.state_dir, "/", kReplicaOfFile);
}

// "0 2\n": the indices of the managed targets that were sent REPLICAOF.
std::vector<bool> LoadReplicaOfSent(const JobContext& job) {
  std::vector<bool> sent(job.spec.targets.size(), false);
  std::ifstream in(ReplicaOfPath(job));
  std::stringstream text;
  text << in.rdbuf();
  for (absl::string_view word :
       absl::StrSplit(text.str(), absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    size_t i = 0;
    if (absl::SimpleAtoi(word, &i) && i < sent.size()) sent[i] = true;
  }
  return sent;
}

// A failed write: nothing more is recorded, nothing waits for a record.
void StopRecording(JobContext& job, const absl::Status& why) {
  job.durable_error = absl::StrCat("the job's state is no longer recorded (", why.message(),
                                   "): a restart of reshardd will need a full sync");
  job.journal.reset();
  for (auto& target : job.targets) target->SetRecordedOffset(UINT64_MAX);
}

}  // namespace

void OpenDurableState(JobContext& job) {
  const JobOptions& options = job.spec.options;
  job.replicaof_sent.assign(job.spec.targets.size(), false);
  job.detached.assign(job.spec.targets.size(), "");
  if (options.state_dir.empty()) return;
  // A new job starts a history of its own (the first publish replaces
  // whatever an older job of the state dir left).
  if (options.restored) LoadFailoverHistory(job);
  job.recorded_failovers =
      options.restored ? EncodeFailoverHistory(job.source.failover_history) : std::string();
  if (options.fsync == FsyncPolicy::kEverySec) job.syncer = std::make_unique<FileSyncer>();
  absl::StatusOr<std::unique_ptr<JobJournal>> journal = JobJournal::Open(JobJournal::Options{
      .dir = options.state_dir, .fsync = options.fsync, .syncer = job.syncer.get()});
  if (!journal.ok()) {
    job.durable_error =
        absl::StrCat("the job's state cannot be recorded (", journal.status().message(),
                     "): a restart of reshardd will need a full sync");
    return;
  }
  job.journal = *std::move(journal);
  job.replicaof_sent = LoadReplicaOfSent(job);
  if (!job.journal->problem().empty()) {
    job.restore_detail = absl::StrCat(job.journal->problem(), ": a full sync of every target");
  }
  const std::optional<JobCheckpoint>& restored = job.journal->restored();
  if (!restored.has_value()) return;
  if (restored->targets.size() != job.spec.targets.size()) {
    job.restore_detail =
        absl::StrCat("the recorded state has ", restored->targets.size(), " targets, the spec ",
                     job.spec.targets.size(), ": a full sync of every target");
    return;
  }
  job.restored = restored;
  job.paused = restored->paused;
}

StreamLog::Options TargetLogOptions(const JobContext& job, size_t i) {
  const JobOptions& options = job.spec.options;
  StreamLog::Options log;
  if (options.state_dir.empty()) return log;
  log.dir = options.state_dir;
  log.name = absl::StrCat("t", i);
  // A few segments per backlog, so what is dropped as the stream moves on
  // stays close to what the backlog and the replica need.
  log.segment_bytes = std::clamp<uint64_t>(options.target_backlog_bytes / 4, 1 << 20, 64 << 20);
  log.fsync = options.fsync;
  log.syncer = job.syncer.get();
  return log;
}

absl::Status StartFreshDurableState(JobContext& job) {
  if (job.journal == nullptr) return absl::OkStatus();
  job.restored.reset();
  if (absl::Status cleared = job.journal->Clear(); !cleared.ok()) {
    StopRecording(job, cleared);
    return absl::OkStatus();
  }
  for (auto& target : job.targets) {
    if (absl::Status started = target->StartLog(); !started.ok()) {
      job.durable_error = absl::StrCat("target '", target->name(), "': ", started.message());
    }
  }
  return absl::OkStatus();
}

void RecordJobState(JobContext& job) {
  if (job.journal == nullptr || job.router == nullptr) return;
  // Only where the targets' streams are the source routed up to its applied
  // offset: not in the middle of a batch (a materialisation yields while
  // commands before it wait to be appended), not inside MULTI (the
  // transaction's bytes go out at EXEC). Nothing is sent past the last record
  // meanwhile.
  // Nor while a write waits for its key copies: commands after it may have
  // reached the targets' streams, so their state is past the routed offset.
  if (job.routing || job.router->in_transaction()) return;
  if (job.source.routed_offset != job.source.applied_offset) return;
  JobCheckpoint checkpoint;
  checkpoint.source_replid = job.source.replid;
  checkpoint.source_offset = job.source.applied_offset;
  checkpoint.source_db = job.router->source_db();
  checkpoint.paused = job.paused;
  std::vector<bool> continuable(job.targets.size());
  for (size_t i = 0; i < job.targets.size(); ++i) {
    TargetMaster& target = *job.targets[i];
    // A target with a held stream is between two streams: it cannot continue.
    continuable[i] = target.continuable() && (i >= job.held.size() || job.held[i] == nullptr);
    checkpoint.targets.push_back(
        JobCheckpoint::Target{continuable[i] ? target.replid() : "", target.offset()});
    if (continuable[i] && job.spec.options.fsync == FsyncPolicy::kAlways) {
      if (absl::Status synced = target.durable().log()->Sync(); !synced.ok()) {
        return StopRecording(job, synced);
      }
    }
  }
  for (SkipWindows::OpenWindow& window : job.router->skip_windows().List()) {
    checkpoint.skip_windows.push_back(
        JobCheckpoint::SkipWindow{window.db, std::move(window.key), window.end});
  }
  if (absl::Status recorded = job.journal->Record(checkpoint); !recorded.ok()) {
    return StopRecording(job, recorded);
  }
  for (size_t i = 0; i < job.targets.size(); ++i) {
    job.targets[i]->SetRecordedOffset(continuable[i] ? job.targets[i]->offset() : UINT64_MAX);
  }
}

void SyncDurableState(JobContext& job) {
  if (job.journal == nullptr || job.syncer == nullptr) return;
  // Logs first: a synced checkpoint should not count bytes a crash loses.
  for (auto& target : job.targets) {
    if (StreamLog* log = target->durable().log()) log->SyncSoon();
  }
  job.journal->SyncSoon();
  if (absl::Status error = job.syncer->first_error(); !error.ok() && job.durable_error.empty()) {
    job.durable_error = absl::StrCat("fsync failed (", error.message(),
                                     "): a crash of the machine may need a full sync");
  }
}

void RecordFailoverHistory(JobContext& job) {
  if (!job.recorded_failovers.has_value()) return;
  std::string text = EncodeFailoverHistory(job.source.failover_history);
  if (text == *job.recorded_failovers) return;
  // Not a reason to stop recording the stream: the history is apart from it.
  absl::Status written = WriteFileAtomically(FailoversPath(job), text, 0600);
  if (!written.ok()) {
    if (job.durable_error.empty()) {
      job.durable_error =
          absl::StrCat("the failover history is no longer recorded (", written.message(), ")");
    }
    job.recorded_failovers.reset();
    return;
  }
  job.recorded_failovers = std::move(text);
}

void FlushDurableState(JobContext& job) {
  if (job.journal == nullptr) return;
  RecordJobState(job);
  for (auto& target : job.targets) {
    if (StreamLog* log = target->durable().log()) log->Sync().IgnoreError();
  }
  if (job.journal != nullptr) job.journal->Sync().IgnoreError();
  if (job.syncer != nullptr) job.syncer->Drain();
}

absl::Status RecordReplicaOfSent(JobContext& job, size_t i) {
  if (job.spec.options.state_dir.empty() || i >= job.replicaof_sent.size()) {
    return absl::OkStatus();
  }
  job.replicaof_sent[i] = true;
  std::vector<size_t> sent;
  for (size_t t = 0; t < job.replicaof_sent.size(); ++t) {
    if (job.replicaof_sent[t]) sent.push_back(t);
  }
  return WriteFileAtomically(ReplicaOfPath(job), absl::StrCat(absl::StrJoin(sent, " "), "\n"),
                             0600);
}

}  // namespace reshard::engine
