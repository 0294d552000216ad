#include "engine/link/sentinel_watcher.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/link/redis_connection.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
constexpr absl::Duration kRetryDelay = absl::Seconds(1);

}  // namespace

absl::StatusOr<HostPort> ParseMasterAddrReply(const RespValue& reply,
                                              const std::string& master_name) {
  if (reply.IsError()) {
    return absl::FailedPreconditionError(
        absl::StrCat("SENTINEL get-master-addr-by-name ", master_name, ": ", reply.str));
  }
  if (reply.type == RespValue::Type::kNull ||
      (reply.type == RespValue::Type::kArray && reply.elements.empty())) {
    return absl::NotFoundError(
        absl::StrCat("the Sentinel does not monitor a master named '", master_name, "'"));
  }
  HostPort address;
  uint32_t port = 0;
  if (reply.type != RespValue::Type::kArray || reply.elements.size() != 2 ||
      !absl::SimpleAtoi(reply.elements[1].str, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("SENTINEL get-master-addr-by-name ", master_name,
                                                   ": unexpected reply ", reply.ToString()));
  }
  address.host = reply.elements[0].str;
  address.port = static_cast<uint16_t>(port);
  return address;
}

std::optional<HostPort> ParseSwitchMaster(std::string_view message,
                                          const std::string& master_name) {
  std::vector<std::string> parts = absl::StrSplit(AsAbsl(message), ' ');
  uint32_t port = 0;
  if (parts.size() != 5 || parts[0] != master_name || !absl::SimpleAtoi(parts[4], &port) ||
      port == 0 || port > 65535) {
    return std::nullopt;
  }
  return HostPort{parts[3], static_cast<uint16_t>(port)};
}

struct SentinelWatcher::State {
  asio::any_io_executor executor;
  SentinelConfig config;
  bool closed = false;
  absl::Status last_error;
  size_t next = 0;  // the Sentinel to try first
  std::unique_ptr<RedisConnection> connection;
  std::unique_ptr<asio::steady_timer> timer;
};

namespace {

// Connects to the Sentinels in turn from state.next; on success the
// connection (open, authenticated) is in `*out` and the master's address
// returned. Not state.connection: AskMaster may run beside the watch loop,
// which reads on that one.
asio::awaitable<absl::StatusOr<HostPort>> ConnectAndAsk(std::shared_ptr<SentinelWatcher::State> s,
                                                        std::unique_ptr<RedisConnection>* out) {
  absl::Status last = absl::UnavailableError("no Sentinel address");
  for (size_t tried = 0; tried < s->config.sentinels.size() && !s->closed; ++tried) {
    const HostPort& sentinel = s->config.sentinels[s->next % s->config.sentinels.size()];
    // A named endpoint: GCC 12 destroys a temporary inside a co_await
    // expression twice.
    const RedisEndpoint endpoint{sentinel, {}, s->config.tls};
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        co_await RedisConnection::Connect(s->executor, endpoint, "sentinel", kConnectTimeout);
    if (s->closed) break;
    if (connection.ok()) {
      absl::Status auth = co_await (*connection)->Authenticate(s->config.credentials);
      std::vector<std::string> ask = {"SENTINEL", "get-master-addr-by-name", s->config.master_name};
      // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
      absl::StatusOr<RespValue> reply = absl::UnknownError("not asked");
      if (auth.ok()) {
        reply = co_await (*connection)->Command(std::move(ask));
      } else {
        reply = auth;
      }
      if (s->closed) break;
      if (reply.ok()) {
        absl::StatusOr<HostPort> master = ParseMasterAddrReply(*reply, s->config.master_name);
        if (master.ok()) {
          *out = *std::move(connection);
          co_return master;
        }
        last = absl::Status(master.status().code(),
                            absl::StrCat((*connection)->peer(), ": ", master.status().message()));
      } else {
        last = reply.status();
      }
      (*connection)->Close();
    } else {
      last = connection.status();
    }
    ++s->next;
  }
  if (s->closed) co_return absl::CancelledError("closed");
  co_return last;
}

asio::awaitable<void> WatchLoop(std::shared_ptr<SentinelWatcher::State> s, HostPort current,
                                std::function<void(const HostPort&)> on_master,
                                absl::Duration refresh) {
  auto report = [&](const HostPort& master) {
    if (master.ToString() == current.ToString()) return;
    current = master;
    on_master(master);
  };
  while (!s->closed) {
    std::unique_ptr<RedisConnection> connection;
    absl::StatusOr<HostPort> master = co_await ConnectAndAsk(s, &connection);
    if (s->closed) co_return;
    if (master.ok()) {
      s->connection = std::move(connection);
      report(*master);
      std::vector<std::string> subscribe = {"SUBSCRIBE", "+switch-master"};
      absl::StatusOr<RespValue> subscribed = co_await s->connection->Command(std::move(subscribe));
      if (s->closed) co_return;
      absl::Status status = subscribed.status();
      while (status.ok() && !s->closed) {
        // A silent Sentinel (or one that went away) is replaced after
        // `refresh`, and the master asked for again.
        absl::StatusOr<std::vector<RespValue>> message =
            co_await s->connection->ReadReplies(1, refresh);
        if (s->closed) co_return;
        if (!message.ok()) {
          status = message.status();
          break;
        }
        const RespValue& m = (*message)[0];
        if (m.type == RespValue::Type::kArray && m.elements.size() == 3 &&
            m.elements[0].str == "message") {
          if (std::optional<HostPort> switched =
                  ParseSwitchMaster(m.elements[2].str, s->config.master_name)) {
            report(*switched);
          }
        }
      }
      if (s->connection != nullptr) s->connection->Close();
      s->connection.reset();
      // A timeout is the refresh, not an error.
      if (!status.ok() && !absl::StrContains(status.message(), " pipelined replies within ")) {
        s->last_error = status;
      }
      continue;  // ask again at once
    }
    s->last_error = master.status();
    s->timer = std::make_unique<asio::steady_timer>(s->executor);
    s->timer->expires_after(absl::ToChronoMilliseconds(kRetryDelay));
    asio::error_code ec;
    co_await s->timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

SentinelWatcher::SentinelWatcher(asio::any_io_executor executor, SentinelConfig config)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->config = std::move(config);
}

SentinelWatcher::~SentinelWatcher() { Close(); }

asio::awaitable<absl::StatusOr<HostPort>> SentinelWatcher::AskMaster() {
  std::shared_ptr<State> s = state_;
  std::unique_ptr<RedisConnection> connection;
  absl::StatusOr<HostPort> master = co_await ConnectAndAsk(s, &connection);
  if (connection != nullptr) connection->Close();
  if (!master.ok()) s->last_error = master.status();
  co_return master;
}

void SentinelWatcher::Watch(HostPort current, std::function<void(const HostPort&)> on_master,
                            absl::Duration refresh) {
  asio::co_spawn(state_->executor,
                 WatchLoop(state_, std::move(current), std::move(on_master), refresh),
                 asio::detached);
}

void SentinelWatcher::Close() {
  if (state_->closed) return;
  state_->closed = true;
  if (state_->connection != nullptr) {
    asio::error_code ignored;
    state_->connection->socket().cancel(ignored);
  }
  if (state_->timer != nullptr) state_->timer->cancel();
}

absl::Status SentinelWatcher::last_error() const { return state_->last_error; }
const SentinelConfig& SentinelWatcher::config() const { return state_->config; }

}  // namespace reshard::engine
