#include "engine/job/failover_phase.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/job/snapshot_phase.h"
#include "engine/job/source_phase.h"
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
  if (!job.source.failover_history.failovers.empty()) {
    absl::StrAppend(&job.source.failover_history.failovers.back().detail, ": ", why);
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

namespace {

// With source.sentinel, after the source was lost: until the Sentinels name
// another master (their +switch-master, or asked every half second), within
// options.reconnect_window_ms. True when a new source is pending.
asio::awaitable<bool> WaitForSentinelSwitch(JobContext& job, const absl::Status& lost) {
  const std::string old_address = job.SourceAddress();
  const int window_ms = job.spec.options.reconnect_window_ms;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(window_ms);
  while (!job.finished && !job.source.pending.has_value() && absl::Now() < deadline) {
    job.SetState(JobState::kConnecting,
                 absl::StrCat("source ", old_address, " lost during the snapshot (", lost.message(),
                              "); waiting for the Sentinels to name a new master of '",
                              job.addresses.sentinel->master_name, "'"));
    absl::StatusOr<HostPort> master = co_await job.sentinel->AskMaster();
    if (job.finished || job.source.pending.has_value()) break;
    if (master.ok() && master->ToString() != old_address) {
      MoveSource(job,
                 RedisEndpoint{*master, job.addresses.source.credentials, job.addresses.source.tls},
                 "the Sentinels name another master");
      break;
    }
    if (!co_await job.Sleep(absl::Milliseconds(500))) break;
  }
  co_return !job.finished && job.source.pending.has_value();
}

// Outside the coroutine: GCC 12 mishandles string temporaries in a
// conditional expression inside a coroutine.
std::string TargetsNotBack(const JobContext& job) {
  std::string list;
  for (const auto& target : job.targets) {
    const TargetMaster::Phase phase = target->phase();
    if (phase == TargetMaster::Phase::kNeedsResync || phase == TargetMaster::Phase::kWaiting) {
      absl::StrAppend(&list, list.empty() ? "'" : ", '", target->name(), "'");
    }
  }
  return list;
}

// Why the snapshot ended: the move asked for (its record says by whom:
// "asked for (set-source)", "Sentinel +switch-master of 'm'"), or the link's
// error.
std::string SnapshotEndCause(const JobContext& job, bool asked, const absl::Status& aborted) {
  if (!asked || job.source.failover_history.failovers.empty())
    return std::string(aborted.message());
  std::string cause = job.source.failover_history.failovers.back().detail;
  const std::string_view suffix = "; reconnecting";
  if (absl::EndsWith(cause, AsAbsl(suffix))) cause.resize(cause.size() - suffix.size());
  return cause;
}

}  // namespace

asio::awaitable<absl::Status> RestartSnapshotOnNewSource(JobContext& job, absl::Status aborted) {
  if (job.finished) co_return aborted;
  // A move asked for ended the snapshot (MoveSource interrupts the read):
  // that is the cause, not the link's error.
  const bool asked = job.source.pending.has_value();
  if (!asked) {
    if (!job.addresses.sentinel.has_value() || job.sentinel == nullptr ||
        aborted.code() != absl::StatusCode::kUnavailable) {
      co_return aborted;
    }
    if (!co_await WaitForSentinelSwitch(job, aborted)) {
      if (job.finished) co_return absl::CancelledError("cancelled");
      co_return absl::UnavailableError(
          absl::StrCat(aborted.message(), "; the Sentinels named no other master of '",
                       job.addresses.sentinel->master_name, "' within ",
                       job.spec.options.reconnect_window_ms, " ms (options.reconnect_window_ms)"));
    }
  }
  const std::string old_address = job.SourceAddress();
  const uint64_t keys = job.splitter != nullptr ? job.splitter->keys_read() : 0;
  SwitchSource(job);
  const std::string why = absl::StrCat("a failover during the snapshot: the snapshot from ",
                                       old_address, " was abandoned after ", keys, " keys (",
                                       SnapshotEndCause(job, asked, aborted), ")");
  if (!job.source.failover_history.failovers.empty() &&
      job.source.failover_history.failovers.back().kind == SourceFailover::Kind::kPending) {
    SourceFailover& failover = job.source.failover_history.failovers.back();
    failover.kind = SourceFailover::Kind::kFull;
    failover.offset = 0;
    failover.detail = absl::StrCat("full resync of every target: ", why, "; a new snapshot from ",
                                   job.SourceAddress());
  }
  // Nothing of the old snapshot may stay on a target: each replica is cut
  // off mid-RDB and asks again; the new snapshot replaces it all.
  const std::string reason =
      absl::StrCat(why, "; a new snapshot from ", job.SourceAddress(), " follows");
  for (auto& target : job.targets) target->Abandon(reason);
  job.splitter.reset();
  job.snapshot = {};
  job.upstream_acked = 0;

  const int window_ms = job.spec.options.reconnect_window_ms;
  absl::Time deadline = absl::Now() + absl::Milliseconds(window_ms);
  absl::Duration backoff = absl::Milliseconds(200);
  for (int attempt = 1;; ++attempt) {
    job.SetState(JobState::kConnecting,
                 absl::StrCat(why, "; connecting to the new source ", job.SourceAddress(),
                              " (attempt ", attempt, ")"));
    absl::Status connected = co_await job.upstream->Connect(kConnectTimeout);
    if (job.finished) co_return absl::CancelledError("cancelled");
    if (job.source.pending.has_value()) {
      // Moved again meanwhile: that one is the source now.
      SwitchSource(job);
      deadline = absl::Now() + absl::Milliseconds(window_ms);
      continue;
    }
    if (connected.ok()) break;
    if (connected.code() != absl::StatusCode::kUnavailable || absl::Now() + backoff > deadline) {
      co_return WithContext(connected, absl::StrCat("after ", why, ": "));
    }
    if (!co_await job.Sleep(backoff)) co_return absl::CancelledError("cancelled");
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }

  // The replicas reconnect (a Redis replica retries every second).
  const int attach_ms = job.spec.options.target_attach_timeout_ms;
  const absl::Time attach_deadline =
      absl::Now() + (attach_ms > 0 ? absl::Milliseconds(attach_ms) : absl::Seconds(30));
  while (!job.finished && absl::Now() < attach_deadline) {
    const std::string waiting = TargetsNotBack(job);
    if (waiting.empty()) break;
    job.SetState(JobState::kConnecting,
                 absl::StrCat(why, "; waiting for targets ", waiting, " to ask again for a sync"));
    if (!co_await job.Sleep(absl::Milliseconds(100))) break;
  }
  if (job.finished) co_return absl::CancelledError("cancelled");
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
