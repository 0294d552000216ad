#include "engine/job/source_phase.h"

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "engine/link/replication_info.h"

namespace reshard::engine {

asio::awaitable<absl::Status> ConnectSource(JobContext& job) {
  // The first target's listen port is what the source lists for this replica.
  job.upstream = std::make_unique<UpstreamLink>(job.io.get_executor(), job.addresses.source,
                                                job.addresses.listen[0].port);
  absl::Status status;
  // A job restored after a restart waits for its source however long it
  // takes: a source that is down for a while must not end it.
  const bool restored = job.spec.options.restored;
  int attempts = restored ? INT_MAX : std::max(1, job.spec.options.connect_attempts);
  absl::Duration backoff = absl::Milliseconds(200);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    job.SetState(JobState::kConnecting,
                 restored
                     ? absl::StrCat("restoring: connecting to source ", job.spec.source.address,
                                    " (attempt ", attempt,
                                    status.ok() ? "" : absl::StrCat("; ", status.message()), ")")
                     : absl::StrCat("connecting to source ", job.spec.source.address, " (attempt ",
                                    attempt, "/", attempts, ")"));
    status = co_await job.upstream->Connect(kConnectTimeout);
    if (status.ok() || status.code() != absl::StatusCode::kUnavailable) break;
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

asio::awaitable<absl::Status> ReconnectSource(JobContext& job, absl::Status lost) {
  const int window_ms = job.spec.options.reconnect_window_ms;
  absl::Time deadline = absl::Now() + absl::Milliseconds(window_ms);
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Status last = lost;
  for (int attempt = 1; !job.finished; ++attempt) {
    ++job.source.reconnects;
    job.SetState(job.state, absl::StrCat("source link lost (", lost.message(),
                                         "); reconnecting, attempt ", attempt));
    absl::Status connected = co_await job.upstream->Connect(kConnectTimeout);
    if (connected.ok()) {
      absl::StatusOr<std::string> replid = co_await job.upstream->RequestPartialSync(
          job.source.replid, job.source.applied_offset + 1);
      if (replid.ok()) {
        job.source.replid = *replid;
        co_return absl::OkStatus();
      }
      if (replid.status().code() != absl::StatusCode::kUnavailable) co_return replid.status();
      last = replid.status();
    } else {
      if (connected.code() != absl::StatusCode::kUnavailable) co_return connected;
      last = connected;
    }
    if (absl::Now() + backoff > deadline) {
      co_return absl::UnavailableError(
          absl::StrCat("source ", job.spec.source.address, " lost and not back within ", window_ms,
                       " ms (options.reconnect_window_ms): ", last.message()));
    }
    co_await job.Sleep(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  co_return absl::CancelledError("cancelled");
}

}  // namespace reshard::engine
