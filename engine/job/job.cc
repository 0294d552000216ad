#include "engine/job/job.h"

#include <pthread.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/post.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/job/job_runner.h"
#include "engine/rdb/rdb_reader.h"
#include "engine/link/redis_connection.h"
#include "engine/resp/resp_parser.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
constexpr absl::Duration kTick = absl::Milliseconds(100);
// The source forks and writes (or streams) its snapshot before the payload
// starts; it sends "\n" keepalives meanwhile.
constexpr absl::Duration kSnapshotStartTimeout = absl::Hours(1);

absl::Status WithContext(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(std::string(context), status.message()));
}

}  // namespace

// ---------------------------------------------------------------------------
// Job: the thread-safe facade.

Job::Job(std::string id, JobSpec spec)
    : id_(std::move(id)),
      spec_(std::move(spec)),
      runner_(std::make_unique<JobRunner>(id_, spec_)) {}
Job::~Job() = default;
void Job::Start() { runner_->Start(); }
void Job::Cancel() { runner_->Cancel(); }
absl::Status Job::Pause() { return runner_->Pause(); }
absl::Status Job::Resume() { return runner_->Resume(); }
JobStatus Job::Snapshot() const { return runner_->Snapshot(); }
JobStatus Job::WaitForChange(uint64_t seen, absl::Duration timeout) const {
  return runner_->WaitForChange(seen, timeout);
}

// ---------------------------------------------------------------------------
// JobRunner: public side.

JobRunner::JobRunner(std::string id, const JobSpec& spec)
    : id_(std::move(id)), spec_(spec), wake_(io_, asio::steady_timer::time_point::max()) {
  created_unix_ms_ = absl::ToUnixMillis(absl::Now());
  absl::MutexLock lock(&mu_);
  status_.state = JobState::kPending;
  status_.created_unix_ms = created_unix_ms_;
  status_.updated_unix_ms = created_unix_ms_;
  for (const TargetSpec& target : spec_.targets) {
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
  asio::post(io_, [this] { Finish(JobState::kCancelled, absl::OkStatus()); });
}

absl::Status JobRunner::Pause() {
  {
    absl::MutexLock lock(&mu_);
    if (status_.state == JobState::kPaused) return absl::OkStatus();
    if (status_.state != JobState::kStreaming) {
      return absl::FailedPreconditionError(absl::StrCat("job ", id_, " is ",
                                                        AsAbsl(JobStateName(status_.state)),
                                                        "; only a STREAMING job can be paused"));
    }
  }
  asio::post(io_, [this] {
    if (finished_ || state_ != JobState::kStreaming) return;
    paused_ = true;
    SetState(JobState::kPaused, "paused: not reading the source");
  });
  return absl::OkStatus();
}

absl::Status JobRunner::Resume() {
  {
    absl::MutexLock lock(&mu_);
    if (status_.state == JobState::kStreaming) return absl::OkStatus();
    if (status_.state != JobState::kPaused) {
      return absl::FailedPreconditionError(absl::StrCat("job ", id_, " is ",
                                                        AsAbsl(JobStateName(status_.state)),
                                                        "; only a PAUSED job can be resumed"));
    }
  }
  asio::post(io_, [this] {
    if (finished_ || !paused_) return;
    paused_ = false;
    SetState(JobState::kStreaming, absl::StrCat("streaming; ", command_table_note_));
    wake_.cancel();
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

// ---------------------------------------------------------------------------
// JobRunner: the job thread.

void JobRunner::ThreadMain() {
  std::string thread_name = ("job-" + id_).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  asio::co_spawn(io_, Main(), [this](std::exception_ptr error) {
    if (error != nullptr) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      Finish(JobState::kFailed, absl::InternalError(absl::StrCat("unexpected exception: ", what)));
    }
  });
  io_.run();
  // Tear down on this thread, where every socket and timer lives.
  router_.reset();
  splitter_.reset();
  if (upstream_ != nullptr) upstream_->Close();
  for (auto& target : targets_) target->Close();
  absl::MutexLock lock(&mu_);
  thread_done_ = true;
}

asio::awaitable<void> JobRunner::Main() {
  asio::co_spawn(io_, TickLoop(), asio::detached);
  absl::Status status = co_await Run();
  if (!finished_) Finish(status.ok() ? JobState::kCancelled : JobState::kFailed, status);
}

void JobRunner::Finish(JobState state, absl::Status error) {
  if (finished_) return;
  finished_ = true;
  state_ = state;
  detail_ = state == JobState::kCancelled ? "cancelled" : std::string(error.message());
  if (upstream_ != nullptr) upstream_->Close();
  for (auto& target : targets_) target->Close();
  wake_.cancel();
  {
    absl::MutexLock lock(&mu_);
    status_.error = error;
  }
  Publish();
  io_.stop();
}

void JobRunner::SetState(JobState state, std::string detail) {
  if (finished_) return;
  state_ = state;
  detail_ = std::move(detail);
  Publish();
}

void JobRunner::Publish() {
  JobStatus status;
  status.state = state_;
  status.detail = detail_;
  status.created_unix_ms = created_unix_ms_;
  status.updated_unix_ms = absl::ToUnixMillis(absl::Now());
  status.upstream_reconnects = reconnects_;
  status.source_offset = applied_offset_;
  if (upstream_ != nullptr && upstream_->connected()) {
    status.upstream_connected = !finished_;
    status.bytes_received = upstream_->source().bytes_received();
    if (state_ == JobState::kSyncing) {
      status.rdb_bytes_read = upstream_->source().consumed() - rdb_start_;
    }
  }
  status.rdb_bytes_total = rdb_total_;
  if (splitter_ != nullptr) status.rdb_keys_read = splitter_->keys_read();
  for (size_t i = 0; i < spec_.targets.size(); ++i) {
    TargetStatus t;
    if (i < targets_.size()) {
      t = targets_[i]->Status();
    } else {
      t.name = spec_.targets[i].name;
    }
    if (splitter_ != nullptr) {
      t.rdb_keys_kept = splitter_->keys_kept(i);
      t.rdb_keys_dropped = splitter_->keys_dropped(i);
    }
    if (router_ != nullptr) {
      const auto& counters = router_->counters(i);
      t.commands_kept = counters.commands_kept;
      t.commands_dropped = counters.commands_dropped;
      t.commands_split = counters.commands_split;
      t.keys_materialized = counters.keys_materialized;
    }
    status.targets.push_back(std::move(t));
  }
  absl::MutexLock lock(&mu_);
  status.error = status_.error;
  if (status.rdb_bytes_read == 0) status.rdb_bytes_read = status_.rdb_bytes_read;
  status.version = status_.version + 1;
  status_ = std::move(status);
}

asio::awaitable<void> JobRunner::TickLoop() {
  asio::steady_timer timer(io_);
  absl::Time last_ack = absl::Now(), last_keepalive = absl::Now(), last_ping = absl::Now();
  while (!finished_) {
    timer.expires_after(absl::ToChronoNanoseconds(kTick));
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (finished_) co_return;
    absl::Time now = absl::Now();
    bool streaming = state_ == JobState::kStreaming || state_ == JobState::kPaused;
    if (streaming && !reconnecting_ &&
        now - last_ack >= absl::Milliseconds(spec_.options.ack_interval_ms)) {
      last_ack = now;
      // A failed write shows up as a read error in the stream loop.
      upstream_->SendAck(applied_offset_).IgnoreError();
    }
    if (now - last_keepalive >= absl::Seconds(1)) {
      last_keepalive = now;
      for (auto& target : targets_) target->SendKeepalive();
    }
    if (streaming && now - last_ping >= absl::Milliseconds(spec_.options.target_ping_interval_ms)) {
      last_ping = now;
      static constexpr std::string_view kPing = "*1\r\n$4\r\nPING\r\n";
      for (auto& target : targets_) {
        if (target->phase() == Target::Phase::kStreaming) target->AppendStream(kPing);
      }
    }
    Publish();
  }
}

asio::awaitable<absl::Status> JobRunner::Run() {
  SetState(JobState::kConnecting, "opening target listeners");
  for (size_t i = 0; i < spec_.targets.size(); ++i) {
    const TargetSpec& spec = spec_.targets[i];
    absl::StatusOr<std::unique_ptr<KeyFilter>> filter = MakeKeyFilter(spec.filter);
    if (!filter.ok()) {
      co_return WithContext(filter.status(), absl::StrCat("targets[", i, "].filter: "));
    }
    filters_.push_back(std::move(*filter));
    Target::Callbacks callbacks;
    callbacks.on_attach = [this] { wake_.cancel(); };
    callbacks.on_fatal = [this](absl::Status status) {
      asio::post(io_, [this, status] { Finish(JobState::kFailed, status); });
    };
    targets_.push_back(
        std::make_unique<Target>(i, spec, spec_.options, io_.get_executor(), std::move(callbacks)));
    CO_RETURN_IF_ERROR(targets_.back()->Listen());
  }
  for (auto& target : targets_) target->StartAccepting();

  CO_RETURN_IF_ERROR(co_await ConnectSource());
  co_await LoadCommandTable();
  std::vector<std::string> info = {"INFO", "server"};
  if (absl::StatusOr<RespValue> reply = co_await upstream_->Command(std::move(info));
      reply.ok() && !reply->IsError()) {
    source_version_ = ServerVersionFromInfo(reply->str);
  }
  CO_RETURN_IF_ERROR(co_await ConfigureManagedTargets());
  CO_RETURN_IF_ERROR(co_await WaitForTargets());
  CO_RETURN_IF_ERROR(co_await SyncSnapshot());
  co_return co_await StreamCommands();
}

asio::awaitable<absl::Status> JobRunner::ConnectSource() {
  uint16_t announce_port = 0;
  if (absl::StatusOr<HostPort> listen = ParseHostPort(spec_.targets[0].listen, "listen");
      listen.ok()) {
    announce_port = listen->port;
  }
  upstream_ = std::make_unique<UpstreamLink>(io_.get_executor(), spec_.source, announce_port);
  absl::Status status;
  int attempts = std::max(1, spec_.options.connect_attempts);
  absl::Duration backoff = absl::Milliseconds(200);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    SetState(JobState::kConnecting, absl::StrCat("connecting to source ", spec_.source.address,
                                                 " (attempt ", attempt, "/", attempts, ")"));
    status = co_await upstream_->Connect(kConnectTimeout);
    if (status.ok() || status.code() != absl::StatusCode::kUnavailable) break;
    if (attempt < attempts) {
      asio::steady_timer timer(io_);
      timer.expires_after(absl::ToChronoNanoseconds(backoff));
      asio::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (finished_) co_return absl::CancelledError("cancelled");
      backoff *= 2;
    }
  }
  co_return status;
}

asio::awaitable<void> JobRunner::LoadCommandTable() {
  // Redis 7 key specs place module commands and commands newer than this
  // build; a source without COMMAND (or an ACL that forbids it) keeps the
  // built-in table.
  std::vector<std::string> command = {"COMMAND"};
  absl::StatusOr<RespValue> reply = co_await upstream_->Command(std::move(command));
  if (!reply.ok() || reply->IsError()) {
    command_table_note_ = absl::StrCat("built-in key positions (COMMAND: ",
                                       reply.ok() ? reply->str : reply.status().ToString(), ")");
    co_return;
  }
  absl::StatusOr<CommandTable> table =
      CommandTable::FromCommandReply(*reply, CommandTable::Builtin());
  if (!table.ok()) {
    command_table_note_ = absl::StrCat("built-in key positions (", table.status().ToString(), ")");
    co_return;
  }
  source_command_table_ = std::make_unique<CommandTable>(std::move(*table));
  command_table_ = source_command_table_.get();
  command_table_note_ = absl::StrCat("key positions of ", command_table_->size(),
                                     " commands from the source's COMMAND reply");
}

absl::Status JobRunner::CheckTargetsCanLoad(int rdb_version) const {
  for (size_t i = 0; i < target_versions_.size(); ++i) {
    const std::optional<ServerVersion>& target = target_versions_[i];
    if (!target.has_value()) continue;
    // Valkey 9's VALKEY080 is a format of its own; numbers compare otherwise.
    bool loads = rdb_version == 80 ? target->rdb_version == 80 : target->rdb_version >= rdb_version;
    if (!loads) {
      std::string source = source_version_.has_value() ? source_version_->ToString()
                                                       : absl::StrCat("RDB ", rdb_version);
      return absl::FailedPreconditionError(absl::StrCat(
          "target '", spec_.targets[i].name, "' runs ", target->ToString(),
          ", which cannot load the snapshot of the source (", source, ", RDB ", rdb_version,
          "): upgrade the target to a release that reads RDB ", rdb_version));
    }
  }
  return absl::OkStatus();
}

asio::awaitable<absl::Status> JobRunner::ConfigureManagedTargets() {
  target_versions_.assign(spec_.targets.size(), std::nullopt);
  for (size_t i = 0; i < spec_.targets.size(); ++i) {
    const TargetSpec& spec = spec_.targets[i];
    if (!spec.replica.has_value()) continue;
    std::string field = absl::StrCat("targets[", i, "].replica.address");
    SetState(JobState::kConnecting,
             absl::StrCat("pointing target '", spec.name, "' at ", spec.listen));
    CO_ASSIGN_OR_RETURN(HostPort address, ParseHostPort(spec.replica->address, field));
    CO_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(spec.listen, "listen"));
    CO_ASSIGN_OR_RETURN(std::unique_ptr<RedisConnection> connection,
                        co_await RedisConnection::Connect(io_.get_executor(), address,
                                                          absl::StrCat("target '", spec.name, "'"),
                                                          kConnectTimeout));
    CO_RETURN_IF_ERROR(co_await connection->Authenticate(spec.replica->credentials));
    std::vector<std::string> info = {"INFO", "server"};
    CO_ASSIGN_OR_RETURN(RespValue info_reply, co_await connection->Command(std::move(info)));
    if (!info_reply.IsError()) target_versions_[i] = ServerVersionFromInfo(info_reply.str);
    if (source_version_.has_value()) {
      CO_RETURN_IF_ERROR(CheckTargetsCanLoad(source_version_->rdb_version));
    }
    std::vector<std::vector<std::string>> commands;
    if (!spec.credentials.username.empty()) {
      commands.push_back({"CONFIG", "SET", "masteruser", spec.credentials.username});
    }
    if (!spec.credentials.password.empty()) {
      commands.push_back({"CONFIG", "SET", "masterauth", spec.credentials.password});
    }
    commands.push_back({"REPLICAOF", listen.host, std::to_string(listen.port)});
    for (auto& command : commands) {
      std::string name = absl::StrJoin(command.begin(), command.begin() + 2, " ");
      CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection->Command(command));
      if (reply.type == RespValue::Type::kError) {
        co_return absl::FailedPreconditionError(
            absl::StrCat(connection->peer(), ": ", name, " failed: ", reply.str));
      }
    }
    connection->Close();
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> JobRunner::WaitForTargets() {
  absl::Time deadline =
      spec_.options.target_attach_timeout_ms > 0
          ? absl::Now() + absl::Milliseconds(spec_.options.target_attach_timeout_ms)
          : absl::InfiniteFuture();
  while (!finished_) {
    std::vector<std::string> waiting;
    for (auto& target : targets_) {
      if (target->phase() == Target::Phase::kWaiting) {
        waiting.push_back(absl::StrCat("'", target->name(), "'"));
      }
    }
    if (waiting.empty()) co_return absl::OkStatus();
    std::string list = absl::StrJoin(waiting, ", ");
    if (absl::Now() >= deadline) {
      co_return absl::DeadlineExceededError(absl::StrCat(
          "targets ", list, " did not connect within ", spec_.options.target_attach_timeout_ms,
          " ms: point each target Redis at its listen address with REPLICAOF"));
    }
    SetState(JobState::kConnecting,
             absl::StrCat("waiting for targets ", list, " to replicate from their listeners"));
    wake_.expires_after(std::chrono::seconds(1));
    asio::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return absl::CancelledError("cancelled");
}

asio::awaitable<absl::Status> JobRunner::SyncSnapshot() {
  SetState(JobState::kConnecting,
           absl::StrCat("asking source ", spec_.source.address, " for a full sync"));
  CO_ASSIGN_OR_RETURN(FullResync resync, co_await upstream_->RequestFullSync());
  applied_offset_ = resync.offset;
  source_replid_ = resync.replid;
  SetState(JobState::kConnecting, "waiting for the source's snapshot");
  CO_ASSIGN_OR_RETURN(RdbFraming framing,
                      co_await upstream_->ReadRdbFraming(kSnapshotStartTimeout));
  rdb_total_ = framing.eof_marked ? 0 : framing.length;
  rdb_start_ = upstream_->source().consumed();
  // The magic says the version: check it before a byte goes to a target.
  CO_RETURN_IF_ERROR(co_await upstream_->source().Fill(9));
  std::string_view magic = upstream_->source().Available().substr(0, 9);
  int rdb_version = 0;
  if (magic.substr(0, 5) == "REDIS") {
    absl::SimpleAtoi(AsAbsl(magic.substr(5, 4)), &rdb_version);
  } else if (magic.substr(0, 6) == "VALKEY") {
    absl::SimpleAtoi(AsAbsl(magic.substr(6, 3)), &rdb_version);
  }
  if (rdb_version > 0) {
    CO_RETURN_IF_ERROR(CheckTargetsCanLoad(rdb_version));
    for (auto& target : targets_) target->set_snapshot_rdb_version(rdb_version);
  }
  SetState(JobState::kSyncing, "splitting the snapshot");

  std::vector<RdbSplitOutput> split_targets;
  for (size_t i = 0; i < targets_.size(); ++i) {
    targets_[i]->BeginSnapshot();
    split_targets.push_back(RdbSplitOutput{filters_[i].get(), targets_[i].get()});
  }
  splitter_ = std::make_unique<RdbSplitter>(std::move(split_targets));
  RdbReader reader(&upstream_->source(), splitter_.get());
  CO_RETURN_IF_ERROR(WithContext(co_await reader.Run(), "snapshot from source: "));
  uint64_t rdb_bytes = upstream_->source().consumed() - rdb_start_;
  CO_RETURN_IF_ERROR(co_await upstream_->FinishRdbFraming(framing, rdb_bytes));
  {
    absl::MutexLock lock(&mu_);
    status_.rdb_bytes_read = rdb_bytes;
  }
  for (auto& target : targets_) target->EndSnapshot();

  std::vector<const KeyFilter*> filters;
  std::vector<std::string> names;
  for (size_t i = 0; i < filters_.size(); ++i) {
    filters.push_back(filters_[i].get());
    names.push_back(spec_.targets[i].name);
  }
  router_ = std::make_unique<CommandRouter>(filters, command_table_, names);
  // Targets known to run Redis >= 6.2 (or Valkey) take SET ... PXAT when
  // relative expiries are made absolute; the others get SET + PEXPIREAT.
  for (size_t i = 0; i < target_versions_.size(); ++i) {
    const std::optional<ServerVersion>& version = target_versions_[i];
    if (!version.has_value()) continue;
    router_->SetTargetSupportsPxat(i, version->product == "Valkey" || version->major > 6 ||
                                          (version->major == 6 && version->minor >= 2));
  }
  router_->SetSourceDb(splitter_->source_stream_db() >= 0 ? splitter_->source_stream_db() : 0);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> JobRunner::StreamCommands() {
  SetState(JobState::kStreaming, absl::StrCat("streaming; ", command_table_note_));
  RespParser parser(RespParser::Limits{});
  std::vector<std::string> out(targets_.size());
  std::vector<Materialization> materialize;
  router_->set_fail_on_cross_target(spec_.options.fail_on_cross_target_write);
  router_->SetAppliedOffset(applied_offset_);
  while (!finished_) {
    if (paused_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      asio::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // The link (and its buffer) is replaced when it reconnects.
    SocketByteSource& source = upstream_->source();
    // What arrived from the source arrived now: relative expiries count from here.
    router_->SetNowMs(absl::ToUnixMillis(absl::Now()));
    std::string_view input = source.Available();
    size_t used = 0;
    while (true) {
      RespCommand command;
      size_t consumed = 0;
      ParseResult result = parser.Parse(input.substr(used), &consumed, &command);
      if (result == ParseResult::kNeedMore) break;
      if (result == ParseResult::kError) {
        co_return absl::DataLossError(absl::StrCat("stream from source ", spec_.source.address,
                                                   " at offset ", applied_offset_, ": ",
                                                   parser.error()));
      }
      used += consumed;
      if (!command.args.empty() && command.args[0].size() == 8 &&
          absl::EqualsIgnoreCase(AsAbsl(command.args[0]), "replconf")) {
        // REPLCONF GETACK *: answer with the offset before this command.
        if (command.args.size() >= 2 && absl::EqualsIgnoreCase(AsAbsl(command.args[1]), "getack")) {
          upstream_->SendAck(applied_offset_).IgnoreError();
        }
      } else if (!command.args.empty()) {
        materialize.clear();
        absl::Status routed = router_->Route(command, &out, &materialize);
        if (routed.ok() && !materialize.empty()) {
          // `command` still points into the source's buffer: nothing reads
          // the upstream link while the keys are copied.
          routed = co_await MaterializeKeys(materialize, &out);
          if (finished_) co_return absl::CancelledError("cancelled");
        }
        if (!routed.ok()) {
          co_return WithContext(routed, absl::StrCat("source offset ", applied_offset_, ": "));
        }
      }
      applied_offset_ += consumed;
      router_->SetAppliedOffset(applied_offset_);
    }
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].empty()) continue;
      targets_[i]->AppendStream(out[i]);
      out[i].clear();
    }
    source.Consume(used);
    for (auto& target : targets_) {
      if (target->Backlogged()) CO_RETURN_IF_ERROR(co_await target->WaitWritable());
    }
    absl::Status filled = co_await source.Fill(source.Available().size() + 1);
    if (!filled.ok()) {
      if (finished_) co_return absl::CancelledError("cancelled");
      if (filled.code() != absl::StatusCode::kUnavailable) co_return filled;
      reconnecting_ = true;
      absl::Status reconnected = co_await ReconnectSource(filled);
      reconnecting_ = false;
      CO_RETURN_IF_ERROR(reconnected);
      // The source resends from the first command not applied: a command cut
      // in half by the drop starts again from its first byte.
      parser.Reset(applied_offset_);
      SetState(paused_ ? JobState::kPaused : JobState::kStreaming,
               absl::StrCat("streaming; reconnected to the source at offset ", applied_offset_));
    }
  }
  co_return absl::CancelledError("cancelled");
}

asio::awaitable<absl::Status> JobRunner::ReconnectSource(absl::Status lost) {
  absl::Time deadline = absl::Now() + absl::Milliseconds(spec_.options.reconnect_window_ms);
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Status last = lost;
  for (int attempt = 1; !finished_; ++attempt) {
    ++reconnects_;
    SetState(state_, absl::StrCat("source link lost (", lost.message(), "); reconnecting, attempt ",
                                  attempt));
    absl::Status connected = co_await upstream_->Connect(kConnectTimeout);
    if (connected.ok()) {
      absl::StatusOr<std::string> replid =
          co_await upstream_->RequestPartialSync(source_replid_, applied_offset_ + 1);
      if (replid.ok()) {
        source_replid_ = *replid;
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
          absl::StrCat("source ", spec_.source.address, " lost and not back within ",
                       spec_.options.reconnect_window_ms,
                       " ms (options.reconnect_window_ms): ", last.message()));
    }
    asio::steady_timer timer(io_);
    timer.expires_after(absl::ToChronoNanoseconds(backoff));
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  co_return absl::CancelledError("cancelled");
}

asio::awaitable<absl::Status> JobRunner::MaterializeKeys(
    const std::vector<Materialization>& requests, std::vector<std::string>* out) {
  if (materializer_ == nullptr) {
    materializer_ = std::make_unique<KeyMaterializer>(io_.get_executor(), spec_.source);
  }
  CO_ASSIGN_OR_RETURN(MaterializedBatch batch, co_await materializer_->Fetch(requests));
  for (const auto& [db, key] : batch.keys) {
    router_->EmitMaterialized(db, key, batch.absolute_ttl, batch.source_offset, out);
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
