#include "engine/job/source_phase.h"

#include <algorithm>
#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/link/replication_info.h"

namespace reshard::engine {

void MoveSource(JobContext& job, RedisEndpoint endpoint, std::string_view why) {
  if (job.finished) return;
  const RedisEndpoint& current =
      job.source.pending.has_value() ? *job.source.pending : job.addresses.source;
  if (endpoint.address.ToString() == current.address.ToString()) return;
  SourceFailover failover;
  failover.from = job.SourceAddress();
  failover.to = endpoint.address.ToString();
  failover.unix_ms = absl::ToUnixMillis(absl::Now());
  failover.detail = absl::StrCat(AsAbsl(why), "; reconnecting");
  // A move that replaces one not reached yet replaces its record.
  if (!job.source.failover_history.failovers.empty() &&
      job.source.failover_history.failovers.back().kind == SourceFailover::Kind::kPending) {
    failover.from = job.source.failover_history.failovers.back().from;
    job.source.failover_history.failovers.pop_back();
  }
  AppendFailover(job.source.failover_history, std::move(failover));
  job.source.pending = std::move(endpoint);
  // A read that waits on the old source ends now: the stream reconnects; a
  // snapshot is abandoned and starts again from the new source
  // (RestartSnapshotOnNewSource, failover_phase.h).
  if (job.upstream != nullptr) job.upstream->Interrupt();
  // So does a snapshot that waits for a slow target to take its share.
  if (job.state == JobState::kSyncing && job.splitter != nullptr) {
    for (auto& target : job.targets) target->InterruptWait();
  }
  job.SetState(job.state, job.detail);
}

void SwitchSource(JobContext& job) {
  if (!job.source.pending.has_value()) return;
  job.addresses.source = *std::move(job.source.pending);
  job.source.pending.reset();
  if (job.upstream != nullptr) job.upstream->SetSource(job.addresses.source);
  // Lag, key counts and backlog are the new master's from now on.
  if (job.monitor != nullptr) {
    job.monitor->Close();
    job.monitor = std::make_unique<SourceMonitor>(job.io.get_executor(), job.addresses.source);
    job.monitor->Start();
  }
  if (job.materializer != nullptr) job.materializer->SetSource(job.addresses.source);
}

namespace {

// The failover being followed (asked for, not yet reached), or null.
SourceFailover* PendingFailover(JobContext& job) {
  if (job.source.failover_history.failovers.empty()) return nullptr;
  SourceFailover& last = job.source.failover_history.failovers.back();
  return last.kind == SourceFailover::Kind::kPending ? &last : nullptr;
}

// What the job says while it waits for a source that is not ready.
std::string Waiting(const JobContext& job, const absl::Status& status) {
  if (absl::StrContains(status.message(), "loading its dataset")) {
    return absl::StrCat("waiting for source ", job.SourceAddress(), " to load its dataset");
  }
  return std::string(status.message());
}

// Outside the coroutines: GCC 12 mishandles string temporaries in a
// conditional expression inside a coroutine.
std::string ConnectingDetail(const JobContext& job, bool restored, int attempt, int attempts,
                             const absl::Status& last) {
  std::string why = last.ok() ? "" : absl::StrCat("; ", Waiting(job, last));
  if (restored) {
    return absl::StrCat("restoring: connecting to source ", job.SourceAddress(), " (attempt ",
                        attempt, why, ")");
  }
  return absl::StrCat("connecting to source ", job.SourceAddress(), " (attempt ", attempt, "/",
                      attempts, why, ")");
}

std::string ReconnectingDetail(const JobContext& job, bool failover, const absl::Status& lost,
                               const absl::Status& last, int attempt) {
  const bool waiting = attempt > 1 && !last.ok();
  if (failover) {
    return absl::StrCat("following the source to ", job.SourceAddress(),
                        ": reconnecting with PSYNC, attempt ", attempt,
                        waiting ? absl::StrCat("; ", Waiting(job, last)) : "");
  }
  return absl::StrCat("source link lost (", lost.message(), "); ",
                      waiting ? absl::StrCat(Waiting(job, last), "; ") : "",
                      "reconnecting, attempt ", attempt);
}

}  // namespace

namespace {

// The master the Sentinels name, asked until they answer (a restored job
// forever, else options.connect_attempts times); then the Sentinels are
// watched: a +switch-master moves the source as set-source does.
asio::awaitable<absl::Status> AskSentinel(JobContext& job) {
  if (job.sentinel != nullptr) co_return absl::OkStatus();
  job.sentinel = std::make_unique<SentinelWatcher>(job.io.get_executor(), *job.addresses.sentinel);
  const int attempts =
      job.spec.options.restored ? INT_MAX : std::max(1, job.spec.options.connect_attempts);
  absl::Duration backoff = absl::Milliseconds(200);
  absl::StatusOr<HostPort> master = absl::UnknownError("not asked");
  for (int attempt = 1; attempt <= attempts && !job.finished; ++attempt) {
    job.SetState(JobState::kConnecting,
                 absl::StrCat("asking the Sentinels for master '",
                              job.addresses.sentinel->master_name, "' (attempt ", attempt, ")"));
    master = co_await job.sentinel->AskMaster();
    if (master.ok() || attempt == attempts) break;
    if (!co_await job.Sleep(backoff)) co_return absl::CancelledError("cancelled");
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  if (job.finished) co_return absl::CancelledError("cancelled");
  if (!master.ok()) {
    job.sentinel.reset();
    co_return absl::Status(master.status().code(),
                           absl::StrCat("source.sentinel: ", master.status().message()));
  }
  // The Sentinels' answer is the source, unless the spec named one (then
  // a different answer is a failover like any other).
  if (job.addresses.source.address.host.empty()) {
    job.addresses.source.address = *master;
  } else {
    MoveSource(job,
               RedisEndpoint{*master, job.addresses.source.credentials, job.addresses.source.tls},
               "the Sentinels name another master");
  }
  JobContext* context = &job;
  job.sentinel->Watch(*master, [context](const HostPort& switched) {
    MoveSource(*context,
               RedisEndpoint{switched, context->addresses.source.credentials,
                             context->addresses.source.tls},
               absl::StrCat("Sentinel +switch-master of '",
                            context->addresses.sentinel->master_name, "'"));
  });
  co_return absl::OkStatus();
}

}  // namespace

asio::awaitable<absl::Status> ConnectSource(JobContext& job) {
  if (job.addresses.sentinel.has_value()) CO_RETURN_IF_ERROR(co_await AskSentinel(job));
  SwitchSource(job);
  // The first target's listen port is what the source lists for this replica.
  job.upstream = std::make_unique<UpstreamLink>(job.io.get_executor(), job.addresses.source,
                                                job.addresses.listen[0].port);
  absl::Status status;
  // A job restored after a restart waits for its source however long it
  // takes: a source that is down for a while must not end it.
  const bool restored = job.spec.options.restored;
  int attempts = restored ? INT_MAX : std::max(1, job.spec.options.connect_attempts);
  absl::Duration backoff = absl::Milliseconds(200);
  absl::Time loading_since = absl::InfinitePast();
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    SwitchSource(job);
    job.SetState(JobState::kConnecting, ConnectingDetail(job, restored, attempt, attempts, status));
    status = co_await job.upstream->Connect(kConnectTimeout);
    if (status.ok() || status.code() != absl::StatusCode::kUnavailable) break;
    // A source that loads its dataset answers once loaded: it does not use
    // up the attempts (options.reconnect_window_ms bounds the wait).
    if (absl::StrContains(status.message(), "loading its dataset") && !restored) {
      if (loading_since == absl::InfinitePast()) loading_since = absl::Now();
      if (absl::Now() - loading_since < absl::Milliseconds(job.spec.options.reconnect_window_ms)) {
        --attempt;
      }
    }
    if (attempt < attempts) {
      if (!co_await job.Sleep(backoff)) co_return absl::CancelledError("cancelled");
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
  }
  co_return status;
}

asio::awaitable<void> LearnSource(JobContext& job) {
  SourceState& source = job.source;
  job.monitor = std::make_unique<SourceMonitor>(job.io.get_executor(), job.addresses.source);
  job.monitor->Start();
  // Redis 7 key specs place module commands and commands newer than this build.
  std::vector<std::string> command = {"COMMAND"};
  absl::StatusOr<RespValue> reply = co_await job.upstream->Command(std::move(command));
  if (!reply.ok() || reply->IsError()) {
    source.command_table_note = absl::StrCat(
        "built-in key positions (COMMAND: ", reply.ok() ? reply->str : reply.status().ToString(),
        ")");
  } else if (absl::StatusOr<CommandTable> table =
                 CommandTable::FromCommandReply(*reply, CommandTable::Builtin());
             !table.ok()) {
    source.command_table_note =
        absl::StrCat("built-in key positions (", table.status().ToString(), ")");
  } else {
    source.own_command_table = std::make_unique<CommandTable>(std::move(*table));
    source.command_table = source.own_command_table.get();
    source.command_table_note = absl::StrCat("key positions of ", source.command_table->size(),
                                             " commands from the source's COMMAND reply");
  }
  std::vector<std::string> info = {"INFO", "server"};
  if (absl::StatusOr<RespValue> server = co_await job.upstream->Command(std::move(info));
      server.ok() && !server->IsError()) {
    source.version = ServerVersionFromInfo(server->str);
    source.run_id = InfoField(server->str, "run_id");
  }
}

asio::awaitable<absl::StatusOr<bool>> ReconnectSource(JobContext& job, absl::Status lost) {
  const int window_ms = job.spec.options.reconnect_window_ms;
  absl::Time deadline = absl::Now() + absl::Milliseconds(window_ms);
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Status last = lost;
  for (int attempt = 1; !job.finished; ++attempt) {
    ++job.source.reconnects;
    if (job.source.pending.has_value()) {
      // A failover: the new master's window starts now.
      SwitchSource(job);
      deadline = absl::Now() + absl::Milliseconds(window_ms);
    }
    SourceFailover* failover = PendingFailover(job);
    job.SetState(job.state, ReconnectingDetail(job, failover != nullptr, lost, last, attempt));
    absl::Status connected = co_await job.upstream->Connect(kConnectTimeout);
    if (job.source.pending.has_value()) continue;  // moved again meanwhile
    if (connected.ok()) {
      const uint64_t offset = job.source.applied_offset + 1;
      absl::StatusOr<std::string> replid =
          co_await job.upstream->RequestPartialSync(job.source.replid, offset);
      if (job.source.pending.has_value()) continue;
      if (replid.ok()) {
        if (failover != nullptr) {
          failover->kind = SourceFailover::Kind::kPartial;
          failover->offset = job.source.applied_offset;
          failover->detail = absl::StrCat("continued on ", job.SourceAddress(), " with PSYNC ",
                                          job.source.replid, " ", offset, ": +CONTINUE ", *replid);
        }
        job.source.replid = *replid;
        co_return true;
      }
      if (replid.status().code() != absl::StatusCode::kUnavailable) {
        if (failover == nullptr) co_return replid.status();
        // The new master does not share the history (its replid and replid2
        // are not what the job followed, or its backlog lacks the offset):
        // the caller starts the stream again (failover_phase.h).
        failover->kind = SourceFailover::Kind::kFull;
        failover->offset = job.source.applied_offset;
        failover->detail = absl::StrCat("full resync of every target: ", job.SourceAddress(),
                                        " does not continue replication id ", job.source.replid,
                                        " at offset ", offset);
        co_return false;
      }
      last = replid.status();
    } else {
      if (connected.code() != absl::StatusCode::kUnavailable) co_return connected;
      last = connected;
    }
    if (absl::Now() + backoff > deadline) {
      co_return absl::UnavailableError(
          absl::StrCat("source ", job.SourceAddress(), " lost and not back within ", window_ms,
                       " ms (options.reconnect_window_ms): ", last.message()));
    }
    co_await job.Sleep(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  co_return absl::CancelledError("cancelled");
}

}  // namespace reshard::engine
