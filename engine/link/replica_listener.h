#pragma once

// ReplicaListener: the TCP (or TLS) listener of one target, where its Redis
// connects as a replica of reshardd. It accepts connections (with TLS: and
// completes the handshake, within the handshake timeout) and hands each one to
// its owner (the target's master), refusing one with a -ERR line when the
// owner already has max_connections. Accept errors (EMFILE, ENFILE, ENOBUFS,
// ...) are counted and retried after a pause (100 ms doubling to 1 s, back to
// 100 ms after an accept succeeds), so a process out of descriptors does not
// spin. Single-threaded: the executor it is given.
// Its accept loop keeps the listener's state alive, so the listener may be
// destroyed (or closed) while the loop still waits on the executor.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/ip/tcp.hpp"
#include "engine/io/endpoint.h"
#include "engine/io/net_stream.h"

namespace reshard::engine {

class ReplicaListener {
 public:
  struct Options {
    std::string name;          // the target's name, in the refusal
    std::string listen_field;  // names the address in errors ("targets[1].listen")
    HostPort listen;
    // Connections the owner may hold; past it a new one is refused.
    int max_connections = 16;
    // TLS on the listener (tls.enabled), named `tls_field` in errors
    // ("targets[1].listen_tls"). A connection whose TLS handshake has not
    // completed within handshake_timeout is closed, and never reaches the owner.
    TlsServerOptions tls;
    std::string tls_field;
    absl::Duration handshake_timeout = absl::Seconds(10);
  };

  ReplicaListener(asio::any_io_executor executor, Options options);
  ~ReplicaListener();  // Close()
  ReplicaListener(const ReplicaListener&) = delete;
  ReplicaListener& operator=(const ReplicaListener&) = delete;

  // Loads the TLS files (INVALID_ARGUMENT "<tls_field>.cert_file: cannot read
  // ..."), binds and listens. INVALID_ARGUMENT "<listen_field>: cannot resolve
  // '<host>'"; UNAVAILABLE "<listen_field>: cannot listen on <host:port>: <why>".
  absl::Status Listen();
  // Starts the accept loop (after a successful Listen, once). Each accepted
  // connection (TCP_NODELAY set; TLS handshake done) goes to `on_socket`, unless
  // `live_connections()` plus the TLS handshakes in progress
  // >= max_connections: then it gets "-ERR reshard: too many connections to
  // the listener of target '<name>' (options.max_listener_connections = N)"
  // and is closed. Neither callback is called after Close().
  void StartAccepting(std::function<void(NetStream)> on_socket,
                      std::function<size_t()> live_connections);
  // Closes the listener; the accept loop ends. Idempotent.
  void Close();

  // The port the listener is bound to (after Listen; useful with port 0); 0 when closed.
  uint16_t bound_port() const;
  // Accepts that failed (not counting the loop's end at Close).
  uint64_t accept_errors() const;
  // The last failed accept: UNAVAILABLE "<listen_field>: cannot accept on
  // <host:port>: <why>"; OK when none failed.
  absl::Status last_accept_error() const;
  // Connections refused for the cap.
  uint64_t refused_connections() const;
  // TLS handshakes that failed or timed out; the last one's error.
  uint64_t tls_handshake_errors() const;
  absl::Status last_tls_handshake_error() const;

  const Options& options() const;

  static constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
  static constexpr absl::Duration kMaxBackoff = absl::Seconds(1);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace reshard::engine
