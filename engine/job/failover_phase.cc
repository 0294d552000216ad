#include "engine/job/failover_phase.h"

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/job/snapshot_phase.h"
#include "engine/job/version_policy.h"
#include "engine/link/replication_info.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/route/rdb_splitter.h"

namespace reshard::engine {

asio::awaitable<absl::Status> RestartStreamOnNewHistory(JobContext& job) {
  CO_RETURN_IF_ERROR(co_await job.upstream->Connect(kConnectTimeout));
  std::vector<std::string> info = {"INFO", "replication"};
  absl::StatusOr<RespValue> reply = co_await job.upstream->Command(std::move(info));
  std::string why = "it answered FULLRESYNC";
  if (reply.ok() && !reply->IsError()) {
    if (absl::StatusOr<ReplicationInfo> replication = ParseReplicationInfo(reply->str);
        replication.ok()) {
      std::string no =
          WhyNoPartialSync(*replication, job.source.replid, job.source.applied_offset + 1);
      if (!no.empty()) why = no;
    }
  }
  if (!job.source.failovers.empty()) {
    absl::StrAppend(&job.source.failovers.back().detail, ": ", why);
  }
  job.SetState(JobState::kDegraded, absl::StrCat("full sync from source ", job.SourceAddress(),
                                                 " after a failover: ", why));
  if (std::optional<std::string> version = VersionToAnnounce(job.target_versions)) {
    CO_RETURN_IF_ERROR(co_await job.upstream->AnnounceVersion(*version));
  }
  CO_ASSIGN_OR_RETURN(FullResync resync, co_await job.upstream->RequestFullSync());
  CO_ASSIGN_OR_RETURN(RdbFraming framing,
                      co_await job.upstream->ReadRdbFraming(kSnapshotStartTimeout));
  // Read through, sent nowhere: the stream starts after it.
  SocketByteSource& source = job.upstream->source();
  const uint64_t rdb_start = source.consumed();
  RdbSplitter dropped({});
  RdbReader reader(&source, &dropped);
  CO_RETURN_IF_ERROR(WithContext(co_await reader.Run(), "snapshot from the new source: "));
  CO_RETURN_IF_ERROR(
      co_await job.upstream->FinishRdbFraming(framing, source.consumed() - rdb_start));

  job.source.replid = resync.replid;
  job.source.applied_offset = resync.offset;
  job.source.routed_offset = resync.offset;
  // Offsets of the old history mean nothing to the new source.
  job.upstream_acked = 0;
  const int stream_db = dropped.source_stream_db();
  MakeRouter(job, stream_db >= 0 ? stream_db : 0);
  job.router->set_fail_on_cross_target(job.spec.options.fail_on_cross_target_write);
  job.router->SetAppliedOffset(resync.offset);
  const std::string reason =
      absl::StrCat("the source failed over to ", job.SourceAddress(),
                   ", which does not share the job's history: a new snapshot");
  for (size_t i = 0; i < job.targets.size(); ++i) {
    job.held[i].reset();
    job.source_acked[i] = 0;
    job.offset_maps[i].Reset(resync.offset, job.targets[i]->offset());
    job.targets[i]->Abandon(reason);
  }
  job.resync_wake.cancel();
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
