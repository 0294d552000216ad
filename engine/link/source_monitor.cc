#include "engine/link/source_monitor.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "asio/co_spawn.hpp"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/link/redis_connection.h"
#include "engine/link/replication_info.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
constexpr absl::Duration kCommandTimeout = absl::Seconds(5);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);

// The text of an INFO reply; INVALID_ARGUMENT naming the peer otherwise.
absl::StatusOr<std::string> InfoText(const RespValue& reply, const std::string& peer,
                                     std::string_view section) {
  if (reply.IsError()) {
    return absl::FailedPreconditionError(
        absl::StrCat(peer, ": INFO ", AsAbsl(section), ": ", reply.str));
  }
  if (reply.type != RespValue::Type::kBulkString && reply.type != RespValue::Type::kVerbatim) {
    return absl::InvalidArgumentError(
        absl::StrCat(peer, ": INFO ", AsAbsl(section), ": not a string"));
  }
  return reply.str;
}

}  // namespace

absl::StatusOr<uint64_t> ParseKeyspaceKeys(std::string_view info) {
  uint64_t total = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(info.data(), info.size()), '\n')) {
    line = absl::StripSuffix(line, "\r");
    if (!absl::StartsWith(line, "db")) continue;
    size_t keys = line.find(":keys=");
    if (keys == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("INFO keyspace: no keys= in \"", line, "\""));
    }
    absl::string_view number = line.substr(keys + 6);
    number = number.substr(0, number.find(','));
    uint64_t n = 0;
    if (!absl::SimpleAtoi(number, &n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("INFO keyspace: keys= is not a number in \"", line, "\""));
    }
    total += n;
  }
  return total;
}

absl::StatusOr<uint64_t> ParseMasterReplOffset(std::string_view info) {
  constexpr std::string_view kField = "master_repl_offset:";
  size_t pos = info.find(kField);
  if (pos == std::string_view::npos) {
    return absl::InvalidArgumentError("INFO replication has no master_repl_offset");
  }
  pos += kField.size();
  size_t end = info.find_first_of("\r\n", pos);
  std::string_view number = info.substr(pos, end == std::string_view::npos ? end : end - pos);
  uint64_t offset = 0;
  if (!absl::SimpleAtoi(absl::string_view(number.data(), number.size()), &offset)) {
    return absl::InvalidArgumentError("INFO replication: master_repl_offset is not a number");
  }
  return offset;
}

std::optional<double> OffsetHistory::BytesPerSecond(absl::Duration window, absl::Duration min_span,
                                                    absl::Time now) const {
  if (samples_.empty()) return std::nullopt;
  // The oldest sample inside the window (the one just before it, when none
  // is: the offset has not moved since).
  auto first = std::lower_bound(samples_.begin(), samples_.end(), now - window,
                                [](const Sample& s, absl::Time t) { return s.first_seen < t; });
  if (first != samples_.begin()) --first;
  absl::Duration span = now - first->first_seen;
  if (span < min_span) return std::nullopt;
  return static_cast<double>(samples_.back().offset - first->offset) /
         absl::ToDoubleSeconds(std::min(span, window));
}

void OffsetHistory::Record(uint64_t offset, absl::Time now) {
  if (!samples_.empty() && offset < samples_.back().offset) samples_.clear();
  if (!samples_.empty() && offset == samples_.back().offset) return;
  samples_.push_back({offset, now});
  while (samples_.size() > kMaxSamples) samples_.pop_front();
}

absl::Duration OffsetHistory::Behind(uint64_t consumed, absl::Time now) const {
  // Samples are in increasing offset order: the first one above `consumed`.
  auto first = std::upper_bound(samples_.begin(), samples_.end(), consumed,
                                [](uint64_t c, const Sample& s) { return c < s.offset; });
  if (first == samples_.end()) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), now - first->first_seen);
}

struct SourceMonitor::State {
  State(asio::any_io_executor executor, RedisEndpoint source, absl::Duration interval)
      : executor(executor), source(std::move(source)), interval(interval), timer(executor) {}

  asio::any_io_executor executor;
  RedisEndpoint source;
  absl::Duration interval;
  asio::steady_timer timer;
  std::unique_ptr<RedisConnection> connection;
  bool closed = false;
  std::optional<uint64_t> key_total;
  std::optional<uint64_t> backlog_size;
  std::optional<SourceMonitor::Role> role;
  OffsetHistory history;
  absl::Status last_error;
  uint64_t polls = 0;
};

namespace {

using State = SourceMonitor::State;

asio::awaitable<void> Sleep(State& state, absl::Duration duration) {
  state.timer.expires_after(absl::ToChronoNanoseconds(duration));
  asio::error_code ec;
  co_await state.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// One connection: connect, INFO keyspace (until read once), then INFO
// replication every interval. Returns the error that ended it (OK if closed).
asio::awaitable<absl::Status> Session(std::shared_ptr<State> state) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> connected = co_await RedisConnection::Connect(
      state->executor, state->source, "source (monitor)", kConnectTimeout);
  if (state->closed) co_return absl::OkStatus();
  if (!connected.ok()) co_return connected.status();
  state->connection = std::move(*connected);
  RedisConnection& connection = *state->connection;
  absl::Status auth = co_await connection.Authenticate(state->source.credentials);
  if (state->closed) co_return absl::OkStatus();
  CO_RETURN_IF_ERROR(auth);
  if (!state->key_total.has_value()) {
    std::vector<std::string> command = {"INFO", "keyspace"};
    absl::StatusOr<RespValue> reply =
        co_await connection.Command(std::move(command), kCommandTimeout);
    if (state->closed) co_return absl::OkStatus();
    if (!reply.ok()) co_return reply.status();
    CO_ASSIGN_OR_RETURN(std::string info, InfoText(*reply, connection.peer(), "keyspace"));
    absl::StatusOr<uint64_t> keys = ParseKeyspaceKeys(info);
    if (!keys.ok()) {
      co_return absl::InvalidArgumentError(
          absl::StrCat(connection.peer(), ": ", keys.status().message()));
    }
    state->key_total = *keys;
  }
  while (!state->closed) {
    std::vector<std::string> command = {"INFO", "replication"};
    absl::StatusOr<RespValue> reply =
        co_await connection.Command(std::move(command), kCommandTimeout);
    if (state->closed) co_return absl::OkStatus();
    if (!reply.ok()) co_return reply.status();
    CO_ASSIGN_OR_RETURN(std::string info, InfoText(*reply, connection.peer(), "replication"));
    absl::StatusOr<uint64_t> offset = ParseMasterReplOffset(info);
    if (!offset.ok()) {
      co_return absl::InvalidArgumentError(
          absl::StrCat(connection.peer(), ": ", offset.status().message()));
    }
    state->history.Record(*offset, absl::Now());
    if (absl::StatusOr<ReplicationInfo> replication = ParseReplicationInfo(info);
        replication.ok()) {
      state->backlog_size = replication->backlog_size;
      SourceMonitor::Role role;
      // Redis says "slave"; the status says what it means.
      role.role = replication->role == "slave" ? "replica" : replication->role;
      if (!replication->master_host.empty()) {
        role.master_address = absl::StrCat(replication->master_host, ":", replication->master_port);
        role.master_link_status = replication->master_link_status;
      }
      state->role = std::move(role);
    }
    ++state->polls;
    state->last_error = absl::OkStatus();
    co_await Sleep(*state, state->interval);
  }
  co_return absl::OkStatus();
}

void Disconnect(State& state) {
  if (state.connection != nullptr) state.connection->Close();
  state.connection.reset();
}

asio::awaitable<void> Run(std::shared_ptr<State> state) {
  absl::Duration backoff = kFirstBackoff;
  while (!state->closed) {
    uint64_t polls = state->polls;
    absl::Status ended = co_await Session(state);
    Disconnect(*state);
    if (state->closed) break;
    state->last_error = ended;
    if (state->polls != polls) backoff = kFirstBackoff;  // that connection worked
    co_await Sleep(*state, backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

}  // namespace

SourceMonitor::SourceMonitor(asio::any_io_executor executor, RedisEndpoint source,
                             absl::Duration interval)
    : state_(std::make_shared<State>(std::move(executor), std::move(source), interval)) {}

SourceMonitor::~SourceMonitor() { Close(); }

void SourceMonitor::Start() {
  if (started_ || state_->closed) return;
  started_ = true;
  // The coroutine holds the state, so it may outlive this object.
  asio::co_spawn(state_->executor, Run(state_), [](std::exception_ptr) {});
}

void SourceMonitor::Close() {
  if (state_->closed) return;
  state_->closed = true;
  state_->timer.cancel();
  // Only the socket: a suspended Command() still uses the connection object;
  // the coroutine drops it when it resumes.
  if (state_->connection != nullptr) state_->connection->Close();
}

std::optional<uint64_t> SourceMonitor::key_total() const { return state_->key_total; }

uint64_t SourceMonitor::master_offset() const { return state_->history.last(); }

double SourceMonitor::SecondsBehind(uint64_t consumed_offset) const {
  return absl::ToDoubleSeconds(state_->history.Behind(consumed_offset, absl::Now()));
}

std::optional<uint64_t> SourceMonitor::backlog_size() const { return state_->backlog_size; }

std::optional<SourceMonitor::Role> SourceMonitor::role() const { return state_->role; }

std::optional<double> SourceMonitor::WriteRate(absl::Duration window) const {
  return state_->history.BytesPerSecond(window, absl::Seconds(5), absl::Now());
}

absl::Status SourceMonitor::last_error() const { return state_->last_error; }

uint64_t SourceMonitor::polls() const { return state_->polls; }

}  // namespace reshard::engine
