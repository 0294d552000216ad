#include "engine/job/resume_phase.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/base/status_macros.h"
#include "engine/io/address_identity.h"
#include "engine/job/snapshot_phase.h"
#include "engine/job/source_phase.h"
#include "engine/job/target_phase.h"
#include "engine/job/version_policy.h"
#include "engine/link/replication_info.h"

namespace reshard::engine {
namespace {

// Attempts at reaching a managed target to check it, ~3 s with backoff.
constexpr int kCheckAttempts = 5;
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);

// Why managed target i is not this job's replica any more; empty when it
// replicates from its listener.
std::string WhyDetached(const JobContext& job, size_t i, const ReplicationInfo& info) {
  const HostPort& listen = job.addresses.listen[i];
  if (info.role == "slave" || info.role == "replica") {
    if (SameServerAddress(HostPort{info.master_host, info.master_port}, listen)) return "";
    return absl::StrCat("no longer this job's replica: it replicates from ", info.master_host, ":",
                        info.master_port, ", not from its listener ", listen.ToString(),
                        "; reshardd will not send it REPLICAOF again");
  }
  return absl::StrCat("no longer this job's replica: it is a ", info.role,
                      " (promoted with REPLICAOF NO ONE?); reshardd will not send it REPLICAOF "
                      "again");
}

// INFO <section> on `connection`; its text, or the error.
asio::awaitable<absl::StatusOr<std::string>> Info(RedisConnection& connection,
                                                  std::string section) {
  std::vector<std::string> command = {"INFO", std::move(section)};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection.Command(std::move(command)));
  if (reply.IsError()) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection.peer(), ": INFO failed: ", reply.str));
  }
  co_return reply.str;
}

// What the source says about continuing at `psync_offset`: empty when it
// would, else why not. UNAVAILABLE when the link failed.
asio::awaitable<absl::StatusOr<std::string>> AskSource(JobContext& job, const std::string& replid,
                                                       uint64_t psync_offset) {
  std::vector<std::string> info = {"INFO", "replication"};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await job.upstream->Command(std::move(info)));
  if (reply.IsError()) co_return std::string();  // no INFO (an ACL): PSYNC will tell
  absl::StatusOr<ReplicationInfo> parsed = ParseReplicationInfo(reply.str);
  if (!parsed.ok()) co_return std::string();
  co_return WhyNoPartialSync(*parsed, replid, psync_offset);
}

// The continue path: the router and each target's stream from the checkpoint.
void RestoreStreams(JobContext& job, const JobCheckpoint& checkpoint) {
  MakeRouter(job, checkpoint.source_db >= 0 ? checkpoint.source_db : 0);
  for (const JobCheckpoint::SkipWindow& window : checkpoint.skip_windows) {
    job.router->OpenSkipWindow(window.db, window.key, window.end);
  }
  int continuing = 0;
  std::vector<std::string> notes;
  for (size_t i = 0; i < job.targets.size(); ++i) {
    TargetMaster& target = *job.targets[i];
    const JobCheckpoint::Target& recorded = checkpoint.targets[i];
    if (!job.detached[i].empty()) continue;  // already kNeedsResync, with its reason
    if (job.spec.targets[i].cluster.has_value()) {
      target.RestoreNeedingResync(recorded.offset,
                                  "a cluster target gets a full sync of its own after a restart "
                                  "(what each master applied is not recorded): the keys its filter "
                                  "selects are deleted from its masters first");
      notes.push_back(absl::StrCat("'", target.name(), "' (a cluster) is synced in full"));
      continue;
    }
    if (recorded.replid.empty()) {
      target.RestoreNeedingResync(recorded.offset,
                                  "it was resyncing when reshardd stopped: it gets a full sync of "
                                  "its own when it reconnects");
      notes.push_back(absl::StrCat("'", target.name(), "' was resyncing"));
      continue;
    }
    if (absl::Status restored = target.RestoreStream(recorded.replid, recorded.offset);
        !restored.ok()) {
      notes.push_back(absl::StrCat("'", target.name(), "': ", restored.message()));
      continue;
    }
    ++continuing;
  }
  job.restore_detail = absl::StrCat(
      "continued after a restart: the source continued at offset ", checkpoint.source_offset + 1,
      " (PSYNC +CONTINUE, no fork); ", continuing, " of ", job.targets.size(),
      " targets continue from their logs (each one whose PSYNC offset its log holds)");
  if (!notes.empty()) absl::StrAppend(&job.restore_detail, "; ", absl::StrJoin(notes, "; "));
}

}  // namespace

asio::awaitable<absl::Status> CheckRestoredTargets(JobContext& job) {
  for (size_t i = 0; i < job.targets.size(); ++i) {
    if (!job.addresses.replica[i].has_value() || !job.replicaof_sent[i]) continue;
    const TargetSpec& spec = job.spec.targets[i];
    job.SetState(JobState::kConnecting, absl::StrCat("restoring: checking that target '", spec.name,
                                                     "' still replicates from ", spec.listen));
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        co_await ConnectManagedTarget(job, i, kCheckAttempts);
    if (job.finished) co_return absl::CancelledError("cancelled");
    // Unreachable: not checked, and nothing is sent to it; if it still
    // replicates from its listener it reconnects by itself.
    if (!connection.ok() && connection.status().code() == absl::StatusCode::kUnavailable) {
      continue;
    }
    CO_RETURN_IF_ERROR(connection.status());
    CO_RETURN_IF_ERROR(co_await (*connection)->Authenticate(job.addresses.replica[i]->credentials));
    CO_ASSIGN_OR_RETURN(std::string server, co_await Info(**connection, "server"));
    job.target_versions[i] = ServerVersionFromInfo(server);
    CO_ASSIGN_OR_RETURN(std::string replication, co_await Info(**connection, "replication"));
    (*connection)->Close();
    CO_ASSIGN_OR_RETURN(ReplicationInfo info, ParseReplicationInfo(replication));
    std::string why = WhyDetached(job, i, info);
    if (why.empty()) continue;
    job.detached[i] = why;
    job.targets[i]->RestoreNeedingResync(0, why);
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<bool>> ResumeFromCheckpoint(JobContext& job) {
  const JobCheckpoint checkpoint = *job.restored;
  const uint64_t psync_offset = checkpoint.source_offset + 1;
  absl::Duration backoff = absl::Milliseconds(200);
  std::string why;
  while (!job.finished) {
    job.SetState(JobState::kConnecting,
                 absl::StrCat("restoring: asking source ", job.SourceAddress(),
                              " to continue at offset ", psync_offset));
    absl::StatusOr<std::string> refusal =
        co_await AskSource(job, checkpoint.source_replid, psync_offset);
    absl::Status failed = refusal.status();
    if (refusal.ok() && !refusal->empty()) {
      why = *refusal;
      break;
    }
    if (refusal.ok()) {
      absl::StatusOr<std::string> replid =
          co_await job.upstream->RequestPartialSync(checkpoint.source_replid, psync_offset);
      if (replid.ok()) {
        job.source.replid = *replid;
        job.source.applied_offset = checkpoint.source_offset;
        RestoreStreams(job, checkpoint);
        for (auto& target : job.targets) target->StartAccepting();
        co_return true;
      }
      failed = replid.status();
      if (failed.code() == absl::StatusCode::kFailedPrecondition) {
        // FULLRESYNC after all (its backlog moved on since INFO), or a refusal.
        why = absl::StrCat("the source would not continue at offset ", psync_offset, " (",
                           failed.message(), ")");
        break;
      }
    }
    if (failed.code() != absl::StatusCode::kUnavailable) co_return failed;
    job.SetState(JobState::kConnecting,
                 absl::StrCat("restoring: ", failed.message(), "; retrying in ",
                              absl::FormatDuration(backoff)));
    if (!co_await job.Sleep(backoff)) co_return absl::CancelledError("cancelled");
    backoff = std::min(backoff * 2, kMaxBackoff);
    CO_RETURN_IF_ERROR(co_await ConnectSource(job));
  }
  if (job.finished) co_return absl::CancelledError("cancelled");
  job.restore_detail = absl::StrCat("full sync of every target after a restart: ", why);
  if (absl::StrContains(why, "backlog")) {
    absl::StrAppend(&job.restore_detail,
                    " (the source's backlog must hold what it writes while reshardd is down: see "
                    "source_backlog_advice)");
  }
  if (job.paused) {
    // A paused target receives nothing, its snapshot neither: the new full
    // sync needs the pause lifted.
    job.paused = false;
    absl::StrAppend(&job.restore_detail,
                    "; the job was PAUSED: it streams again after the full sync (pause it again "
                    "if needed)");
  }
  job.restored.reset();
  if (!job.upstream->connected()) CO_RETURN_IF_ERROR(co_await ConnectSource(job));
  for (auto& target : job.targets) target->StartAccepting();
  co_return false;
}

void SettleFailoverAfterRestart(JobContext& job, bool continued) {
  std::vector<SourceFailover>& failovers = job.source.failover_history.failovers;
  if (failovers.empty() || failovers.back().kind != SourceFailover::Kind::kPending) return;
  SourceFailover& failover = failovers.back();
  if (continued) {
    failover.kind = SourceFailover::Kind::kPartial;
    failover.offset = job.source.applied_offset;
    failover.detail = absl::StrCat("reshardd restarted before the job reached ", failover.to,
                                   "; the restored job continued on ", job.SourceAddress(),
                                   " with PSYNC (+CONTINUE ", job.source.replid, ")");
  } else {
    failover.kind = SourceFailover::Kind::kFull;
    failover.offset = 0;
    failover.detail = absl::StrCat("reshardd restarted before the job reached ", failover.to,
                                   "; full resync of every target from ", job.SourceAddress(),
                                   " after the restart");
  }
}

}  // namespace reshard::engine
