#include "engine/job/snapshot_phase.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/job/target_phase.h"
#include "engine/job/version_policy.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_reader.h"

namespace reshard::engine {
namespace {

// Unmanaged targets' versions: what their replicas announced (Valkey's do).
void LearnAnnouncedVersions(JobContext& job) {
  for (size_t i = 0; i < job.targets.size(); ++i) {
    if (job.target_versions[i].has_value()) continue;
    job.target_versions[i] = ServerVersionFromReplconf(job.targets[i]->replica_version());
  }
}

// A link that drops during the snapshot: the source closed it, and only its
// log says why. Other errors (a target's, a corrupt RDB) pass unchanged.
bool IsLinkLoss(const absl::Status& status, const JobContext& job) {
  // SocketByteSource::Fill's contract: "<peer>: connection lost (<reason>)".
  std::string lost = absl::StrCat(job.upstream->source().peer(), ": connection lost");
  return status.code() == absl::StatusCode::kUnavailable &&
         absl::StartsWith(status.message(), lost);
}

absl::Status ExplainSnapshotLoss(const absl::Status& status, const JobContext& job,
                                 uint64_t rdb_bytes) {
  if (!IsLinkLoss(status, job)) return status;
  return absl::UnavailableError(absl::StrCat(
      "source ", job.SourceAddress(), " closed the link during the snapshot, after ", rdb_bytes,
      " bytes of the RDB (", status.message(),
      "): the source's log says why, e.g. a failed BGSAVE child (a dataset the RDB version it "
      "chose for this replica cannot hold), client-output-buffer-limit replica, or a restart"));
}

}  // namespace

void MakeRouter(JobContext& job, int source_db) {
  std::vector<const KeyFilter*> filters;
  std::vector<std::string> names;
  for (size_t i = 0; i < job.filters.size(); ++i) {
    filters.push_back(job.filters[i].get());
    names.push_back(job.spec.targets[i].name);
  }
  job.router = std::make_unique<CommandRouter>(filters, job.source.command_table, names);
  for (size_t i = 0; i < job.spec.targets.size(); ++i) {
    job.router->SetTargetIsCluster(i, job.spec.targets[i].cluster.has_value());
  }
  // Targets known to take SET ... PXAT get it when relative expiries are made
  // absolute; the others get SET + PEXPIREAT.
  for (size_t i = 0; i < job.target_versions.size(); ++i) {
    if (!job.target_versions[i].has_value()) continue;
    job.router->SetTargetSupportsPxat(i, AcceptsSetPxat(*job.target_versions[i]));
  }
  job.router->SetSourceDb(source_db);
}

asio::awaitable<absl::Status> SyncSnapshot(JobContext& job) {
  job.SetState(JobState::kConnecting,
               absl::StrCat("asking source ", job.SourceAddress(), " for a full sync"));
  LearnAnnouncedVersions(job);
  if (std::optional<std::string> version = VersionToAnnounce(job.target_versions)) {
    CO_RETURN_IF_ERROR(co_await job.upstream->AnnounceVersion(*version));
  }
  CO_ASSIGN_OR_RETURN(FullResync resync, co_await job.upstream->RequestFullSync());
  job.source.applied_offset = resync.offset;
  job.source.routed_offset = resync.offset;
  job.source.replid = resync.replid;
  job.SetState(JobState::kConnecting, "waiting for the source's snapshot");
  absl::StatusOr<RdbFraming> framing_or =
      co_await job.upstream->ReadRdbFraming(kSnapshotStartTimeout);
  if (!framing_or.ok()) co_return ExplainSnapshotLoss(framing_or.status(), job, 0);
  RdbFraming framing = *std::move(framing_or);
  SocketByteSource& source = job.upstream->source();
  job.snapshot.rdb_total = framing.eof_marked ? 0 : framing.length;
  job.snapshot.rdb_start = source.consumed();
  // The magic says the version: check it before a byte goes to a target.
  CO_RETURN_IF_ERROR(ExplainSnapshotLoss(co_await source.Fill(9), job, 0));
  // A header that does not parse is the reader's to report, with its offset.
  if (absl::StatusOr<rdb::RdbMagic> magic = rdb::ParseRdbMagic(source.Available().substr(0, 9));
      magic.ok()) {
    CO_RETURN_IF_ERROR(CheckTargetsCanLoad(job, magic->version));
    for (auto& target : job.targets) target->set_snapshot_rdb_version(magic->version);
  }
  job.SetState(JobState::kSyncing, "splitting the snapshot");

  std::vector<RdbSplitOutput> outputs;
  for (size_t i = 0; i < job.targets.size(); ++i) {
    job.targets[i]->BeginSnapshot();
    outputs.push_back(RdbSplitOutput{job.filters[i].get(), job.targets[i].get()});
  }
  job.splitter = std::make_unique<RdbSplitter>(std::move(outputs));
  RdbReader reader(&source, job.splitter.get());
  absl::Status read = co_await reader.Run();
  if (IsLinkLoss(read, job)) {
    co_return ExplainSnapshotLoss(read, job, source.consumed() - job.snapshot.rdb_start);
  }
  CO_RETURN_IF_ERROR(WithContext(read, "snapshot from source: "));
  uint64_t rdb_bytes = source.consumed() - job.snapshot.rdb_start;
  CO_RETURN_IF_ERROR(ExplainSnapshotLoss(
      co_await job.upstream->FinishRdbFraming(framing, rdb_bytes), job, rdb_bytes));
  job.snapshot.rdb_bytes = rdb_bytes;
  for (auto& target : job.targets) target->EndSnapshot();
  int stream_db = job.splitter->source_stream_db();
  MakeRouter(job, stream_db >= 0 ? stream_db : 0);
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
