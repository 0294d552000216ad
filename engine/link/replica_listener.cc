#include "engine/link/replica_listener.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "asio/write.hpp"
#include "engine/base/await_timeout.h"

namespace reshard::engine {
namespace {

using asio::ip::tcp;

// How long a refused connection is given to read its -ERR line before it is
// closed (closing with unread input would reset the connection and could
// discard the line).
constexpr absl::Duration kRefusalLinger = absl::Milliseconds(500);

// At most this many refusals at once; past it a connection is closed without
// a word (each TLS refusal costs a handshake).
constexpr size_t kMaxRefusals = 16;

// Reads and drops until the peer closes; returns true then.
asio::awaitable<bool> DrainUntilClosed(NetStream& stream) {
  char chunk[512];
  while (true) {
    asio::error_code ec;
    co_await stream.async_read_some(asio::buffer(chunk),
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return true;
  }
}

}  // namespace

struct ReplicaListener::State {
  State(asio::any_io_executor executor, Options options)
      : executor(executor), options(std::move(options)), acceptor(executor), backoff(executor) {}

  // `self` keeps the state alive while the loop runs.
  static asio::awaitable<void> AcceptLoop(std::shared_ptr<State> self);
  // The TLS handshake of one accepted connection, then on_socket.
  static asio::awaitable<void> Handshake(std::shared_ptr<State> self, tcp::socket socket);
  // Tells the peer why (`line`), then closes: on a TLS listener after the
  // handshake and inside TLS, never as plaintext on a TLS port.
  static asio::awaitable<void> Refuse(std::shared_ptr<State> self, tcp::socket socket,
                                      std::string line);
  uint16_t Port() const {
    asio::error_code ec;
    auto endpoint = acceptor.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
  }

  asio::any_io_executor executor;
  const Options options;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;  // between failed accepts
  bool closed = false;
  bool accepting = false;
  uint64_t accept_errors = 0;
  absl::Status last_accept_error;
  uint64_t refused = 0;
  size_t refusing = 0;                      // refusals in progress
  std::shared_ptr<asio::ssl::context> tls;  // null: plain TCP
  size_t handshakes = 0;                    // TLS handshakes in progress
  uint64_t tls_errors = 0;
  absl::Status last_tls_error;
  std::function<void(NetStream)> on_socket;
  std::function<size_t()> live_connections;
};

asio::awaitable<void> ReplicaListener::State::AcceptLoop(std::shared_ptr<State> self) {
  State& s = *self;
  absl::Duration pause = kFirstBackoff;
  while (!s.closed) {
    asio::error_code ec;
    tcp::socket socket =
        co_await s.acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (s.closed) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      ++s.accept_errors;
      s.last_accept_error = absl::UnavailableError(
          absl::StrCat(s.options.listen_field, ": cannot accept on ",
                       HostPort{s.options.listen.host, s.Port()}.ToString(), ": ", ec.message()));
      s.backoff.expires_after(absl::ToChronoNanoseconds(pause));
      co_await s.backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      pause = std::min(pause * 2, kMaxBackoff);
      continue;
    }
    pause = kFirstBackoff;
    socket.set_option(tcp::no_delay(true), ec);
    if (s.live_connections != nullptr &&
        s.live_connections() + s.handshakes >=
            static_cast<size_t>(std::max(s.options.max_connections, 0))) {
      ++s.refused;
      if (s.refusing >= kMaxRefusals) {
        socket.close(ec);
        continue;
      }
      ++s.refusing;
      asio::co_spawn(s.executor,
                     Refuse(self, std::move(socket),
                            absl::StrCat("-ERR reshard: too many connections to the listener of "
                                         "target '",
                                         s.options.name, "' (options.max_listener_connections = ",
                                         s.options.max_connections, ")\r\n")),
                     asio::detached);
      continue;
    }
    if (s.tls != nullptr) {
      ++s.handshakes;
      asio::co_spawn(s.executor, Handshake(self, std::move(socket)), asio::detached);
      continue;
    }
    if (s.on_socket != nullptr) s.on_socket(NetStream(std::move(socket)));
  }
  // The owner may be gone: drop what its callbacks hold.
  s.on_socket = nullptr;
  s.live_connections = nullptr;
}

asio::awaitable<void> ReplicaListener::State::Refuse(std::shared_ptr<State> self,
                                                     tcp::socket socket, std::string line) {
  State& s = *self;
  NetStream stream =
      s.tls != nullptr ? NetStream(std::move(socket), s.tls) : NetStream(std::move(socket));
  bool ready = true;
  if (stream.tls()) {
    std::optional<absl::Status> done = co_await WithTimeout(
        stream.ServerHandshake(absl::StrCat("refused replica on ", s.options.tls_field)),
        s.options.handshake_timeout);
    ready = done.has_value() && done->ok();
  }
  if (ready) {
    asio::error_code ec;
    co_await asio::async_write(stream, asio::buffer(line),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      // Closing with unread input would reset the connection and could
      // discard the line: stop sending, then drain for a while.
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_await WithTimeout(DrainUntilClosed(stream), kRefusalLinger);
    }
  }
  stream.Close();
  --s.refusing;
}

asio::awaitable<void> ReplicaListener::State::Handshake(std::shared_ptr<State> self,
                                                        tcp::socket socket) {
  State& s = *self;
  asio::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  std::string peer = absl::StrCat(
      "replica ", ec ? "unknown" : HostPort{remote.address().to_string(), remote.port()}.ToString(),
      " on ", s.options.tls_field);
  NetStream stream(std::move(socket), s.tls);
  std::optional<absl::Status> done =
      co_await WithTimeout(stream.ServerHandshake(peer), s.options.handshake_timeout);
  --s.handshakes;
  absl::Status status = done.has_value()
                            ? *done
                            : absl::DeadlineExceededError(absl::StrCat(
                                  peer, ": TLS handshake not done within ",
                                  absl::ToInt64Milliseconds(s.options.handshake_timeout), " ms"));
  if (!status.ok() || s.closed || s.on_socket == nullptr) {
    if (!status.ok()) {
      ++s.tls_errors;
      s.last_tls_error = status;
    }
    stream.Close();
    co_return;
  }
  s.on_socket(std::move(stream));
}

ReplicaListener::ReplicaListener(asio::any_io_executor executor, Options options)
    : state_(std::make_shared<State>(executor, std::move(options))) {}

ReplicaListener::~ReplicaListener() { Close(); }

absl::Status ReplicaListener::Listen() {
  const std::string& field = state_->options.listen_field;
  const HostPort& address = state_->options.listen;
  if (state_->options.tls.enabled) {
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> tls =
        MakeServerTlsContext(state_->options.tls, state_->options.tls_field);
    if (!tls.ok()) return tls.status();
    state_->tls = std::move(*tls);
  }
  asio::error_code ec;
  asio::ip::address ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    tcp::resolver resolver(state_->executor);
    auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": cannot resolve '", address.host, "'"));
    }
    ip = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(ip, address.port);
  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor.close(ignored);
    return absl::UnavailableError(
        absl::StrCat(field, ": cannot listen on ", address.ToString(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

void ReplicaListener::StartAccepting(std::function<void(NetStream)> on_socket,
                                     std::function<size_t()> live_connections) {
  State& state = *state_;
  if (state.closed || state.accepting || !state.acceptor.is_open()) return;
  state.accepting = true;
  state.on_socket = std::move(on_socket);
  state.live_connections = std::move(live_connections);
  asio::co_spawn(state.executor, State::AcceptLoop(state_), asio::detached);
}

void ReplicaListener::Close() {
  State& state = *state_;
  if (state.closed) return;
  state.closed = true;
  asio::error_code ec;
  state.acceptor.close(ec);
  state.backoff.cancel();
}

uint16_t ReplicaListener::bound_port() const { return state_->Port(); }
uint64_t ReplicaListener::accept_errors() const { return state_->accept_errors; }
absl::Status ReplicaListener::last_accept_error() const { return state_->last_accept_error; }
uint64_t ReplicaListener::refused_connections() const { return state_->refused; }
uint64_t ReplicaListener::tls_handshake_errors() const { return state_->tls_errors; }
absl::Status ReplicaListener::last_tls_handshake_error() const { return state_->last_tls_error; }
const ReplicaListener::Options& ReplicaListener::options() const { return state_->options; }

}  // namespace reshard::engine
