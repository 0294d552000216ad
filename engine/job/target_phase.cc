#include "engine/job/target_phase.h"

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "asio/post.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/status_macros.h"
#include "engine/job/durable_state.h"
#include "engine/job/version_policy.h"
#include "engine/link/redis_connection.h"
#include "engine/link/replication_info.h"

namespace reshard::engine {
namespace {

TargetMaster::Options MasterOptions(const JobContext& job, size_t i) {
  const TargetSpec& spec = job.spec.targets[i];
  TargetMaster::Options options;
  options.name = spec.name;
  options.listen_field = absl::StrCat("targets[", i, "].listen");
  options.listen = job.addresses.listen[i];
  options.credentials = spec.credentials;
  options.listen_tls = spec.listen_tls;
  options.listen_tls_field = absl::StrCat("targets[", i, "].listen_tls");
  options.backlog_bytes = job.spec.options.target_backlog_bytes;
  options.max_queue_bytes = job.spec.options.max_target_queue_bytes;
  options.spool_max_bytes = job.spec.options.spool_max_bytes;
  Spool::Options spool = job.SpoolOptions(i, "outbox");
  options.spool_dir = spool.dir;
  options.spool_name = spool.name;
  options.handshake_timeout = absl::Milliseconds(job.spec.options.listener_handshake_timeout_ms);
  options.max_connections = job.spec.options.max_listener_connections;
  options.log = TargetLogOptions(job, i);
  return options;
}

}  // namespace

asio::awaitable<absl::StatusOr<std::unique_ptr<RedisConnection>>> ConnectManagedTarget(
    JobContext& job, size_t i, int attempts) {
  const TargetSpec& spec = job.spec.targets[i];
  const RedisEndpoint& replica = *job.addresses.replica[i];
  // A restored job retries an unreachable target (a fresh one fails at once).
  if (attempts <= 0) attempts = job.spec.options.restored ? INT_MAX : 1;
  absl::Duration backoff = absl::Milliseconds(200);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection = co_await RedisConnection::Connect(
        job.io.get_executor(), replica, absl::StrCat("target '", spec.name, "'"), kConnectTimeout);
    if (connection.ok() || connection.status().code() != absl::StatusCode::kUnavailable ||
        attempt >= attempts) {
      co_return connection;
    }
    job.SetState(JobState::kConnecting,
                 absl::StrCat("restoring: target '", spec.name, "' unreachable (",
                              connection.status().message(), "); retrying"));
    if (!co_await job.Sleep(backoff)) co_return absl::CancelledError("cancelled");
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

absl::Status OpenListeners(JobContext& job) {
  job.target_versions.assign(job.spec.targets.size(), std::nullopt);
  for (size_t i = 0; i < job.spec.targets.size(); ++i) {
    absl::StatusOr<std::unique_ptr<KeyFilter>> filter =
        MakeKeyFilter(TargetFilter(job.spec.targets[i]));
    if (!filter.ok()) {
      return WithContext(filter.status(), absl::StrCat("targets[", i, "].filter: "));
    }
    job.filters.push_back(std::move(*filter));
    TargetMaster::Callbacks callbacks;
    callbacks.on_attach = [&job] { job.wake.cancel(); };
    callbacks.on_resync_needed = [&job] { job.resync_wake.cancel(); };
    callbacks.on_fatal = [&job](absl::Status status) {
      asio::post(job.io, [&job, status] { job.Fail(status); });
    };
    job.targets.push_back(std::make_unique<TargetMaster>(
        MasterOptions(job, i), job.io.get_executor(), std::move(callbacks)));
    RETURN_IF_ERROR(job.targets.back()->Listen());
  }
  // A job restored from a checkpoint accepts once the source said whether it
  // continues (resume_phase.h): a replica then gets the right answer at once.
  if (!job.restored.has_value()) {
    for (auto& target : job.targets) target->StartAccepting();
  }
  return absl::OkStatus();
}

absl::Status CheckTargetsCanLoad(const JobContext& job, int rdb_version) {
  for (size_t i = 0; i < job.target_versions.size(); ++i) {
    if (!job.target_versions[i].has_value()) continue;
    RETURN_IF_ERROR(CheckTargetCanLoad(job.spec.targets[i].name, *job.target_versions[i],
                                       job.source.version, rdb_version));
  }
  return absl::OkStatus();
}

asio::awaitable<absl::Status> ConfigureManagedTargets(JobContext& job) {
  for (size_t i = 0; i < job.spec.targets.size(); ++i) {
    const TargetSpec& spec = job.spec.targets[i];
    const std::optional<RedisEndpoint>& replica = job.addresses.replica[i];
    if (!replica.has_value()) continue;
    // A restarted reshardd never sends REPLICAOF twice: a target configured
    // before replicates from its listener already, or has left the job.
    if (job.spec.options.restored && job.replicaof_sent[i]) continue;
    const HostPort& listen = job.addresses.listen[i];
    job.SetState(JobState::kConnecting,
                 absl::StrCat("pointing target '", spec.name, "' at ", spec.listen));
    CO_ASSIGN_OR_RETURN(std::unique_ptr<RedisConnection> connection,
                        co_await ConnectManagedTarget(job, i, /*attempts=*/0));
    CO_RETURN_IF_ERROR(co_await connection->Authenticate(replica->credentials));
    std::vector<std::string> info = {"INFO", "server"};
    CO_ASSIGN_OR_RETURN(RespValue info_reply, co_await connection->Command(std::move(info)));
    if (!info_reply.IsError()) job.target_versions[i] = ServerVersionFromInfo(info_reply.str);
    // The source under another name (an alias, a NAT address): never REPLICAOF it.
    if (std::string run_id = InfoField(info_reply.str, "run_id");
        !run_id.empty() && run_id == job.source.run_id) {
      co_return absl::InvalidArgumentError(
          absl::StrCat("targets[", i, "].replica.address: '", spec.replica->address,
                       "' is the source itself (the same run_id ", run_id,
                       "): reshardd never sends REPLICAOF to its source"));
    }
    // Checked again, for every target, against the snapshot's own header.
    if (std::optional<int> rdb_version =
            job.source.version.has_value() ? RdbVersionSentBy(*job.source.version) : std::nullopt;
        rdb_version.has_value()) {
      CO_RETURN_IF_ERROR(CheckTargetsCanLoad(job, *rdb_version));
    }
    std::vector<std::vector<std::string>> commands;
    if (!spec.credentials.username.empty()) {
      commands.push_back({"CONFIG", "SET", "masteruser", spec.credentials.username});
    }
    if (!spec.credentials.password.empty()) {
      commands.push_back({"CONFIG", "SET", "masterauth", spec.credentials.password});
    }
    // A TLS listener: the target replicates over TLS (its own tls-ca-cert-file
    // verifies the listener's certificate; its tls-cert-file, or
    // tls-client-cert-file, is what a listener with a ca_file checks).
    if (spec.listen_tls.enabled) {
      commands.push_back({"CONFIG", "SET", "tls-replication", "yes"});
    }
    commands.push_back({"REPLICAOF", listen.host, std::to_string(listen.port)});
    CO_RETURN_IF_ERROR(RecordReplicaOfSent(job, i));
    for (auto& command : commands) {
      std::string name = absl::StrJoin(command.begin(), command.begin() + 2, " ");
      CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection->Command(command));
      if (reply.type == RespValue::Type::kError) {
        // A server may echo the arguments (the password) in its error.
        std::string why = reply.str;
        if (!spec.credentials.password.empty()) {
          why = absl::StrReplaceAll(why, {{spec.credentials.password, "<redacted>"}});
        }
        co_return absl::FailedPreconditionError(
            absl::StrCat(connection->peer(), ": ", name, " failed: ", why));
      }
    }
    connection->Close();
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> WaitForTargets(JobContext& job) {
  const int timeout_ms = job.spec.options.target_attach_timeout_ms;
  absl::Time deadline =
      timeout_ms > 0 ? absl::Now() + absl::Milliseconds(timeout_ms) : absl::InfiniteFuture();
  while (!job.finished) {
    std::vector<std::string> waiting;
    for (auto& target : job.targets) {
      if (target->phase() == TargetMaster::Phase::kWaiting) {
        waiting.push_back(absl::StrCat("'", target->name(), "'"));
      }
    }
    if (waiting.empty()) co_return absl::OkStatus();
    std::string list = absl::StrJoin(waiting, ", ");
    if (absl::Now() >= deadline) {
      co_return absl::DeadlineExceededError(
          absl::StrCat("targets ", list, " did not connect within ", timeout_ms,
                       " ms: point each target Redis at its listen address with REPLICAOF"));
    }
    job.SetState(JobState::kConnecting,
                 absl::StrCat("waiting for targets ", list, " to replicate from their listeners"));
    job.wake.expires_after(std::chrono::seconds(1));
    asio::error_code ec;
    co_await job.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return absl::CancelledError("cancelled");
}

}  // namespace reshard::engine
