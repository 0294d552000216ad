#pragma once

// NetStream: one connection, plain TCP or TLS (asio's ssl::stream over
// OpenSSL). It is an AsyncReadStream/AsyncWriteStream, so asio::async_write
// and the byte sources work on it unchanged; each read or write branches once
// on the kind, then calls the socket or the TLS stream directly (no virtual
// call): the plain path is the socket's own. A TLS stream owns its context.
// Single-threaded, like the socket it wraps.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/ssl/context.hpp"
#include "asio/ssl/stream.hpp"
#include "asio/write.hpp"
#include "engine/io/endpoint.h"

namespace reshard::engine {

class NetStream {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;

  // Plain TCP.
  explicit NetStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  // TLS over `socket`; the handshake is still to do (ClientHandshake, ServerHandshake).
  NetStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context);
  NetStream(NetStream&&) = default;
  NetStream& operator=(NetStream&&) = default;

  bool tls() const { return tls_ != nullptr; }
  // The TCP socket under it all (endpoints, options, cancel, close).
  asio::ip::tcp::socket& socket() { return tls_ != nullptr ? tls_->next_layer() : socket_; }
  executor_type get_executor() { return socket().get_executor(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_ != nullptr) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (tls_ != nullptr) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }
  // Writes all of `bytes` synchronously (small control messages).
  void WriteAll(std::string_view bytes, asio::error_code& ec) {
    if (tls_ != nullptr) {
      asio::write(*tls_, asio::buffer(bytes.data(), bytes.size()), ec);
    } else {
      asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    }
  }

  // TLS client handshake: SNI and the name check for `host` (a DNS name or an
  // IP literal), then the handshake. Errors start with `peer`: FAILED_PRECONDITION
  // "<peer>: TLS handshake failed: certificate verify failed (<why>)" (a wrong
  // CA, a name mismatch, an expired certificate: retrying will not help), or
  // UNAVAILABLE "<peer>: TLS handshake failed: <OpenSSL's reason>".
  asio::awaitable<absl::Status> ClientHandshake(TlsClientOptions options, std::string host,
                                                std::string peer);
  // TLS server handshake; the error (UNAVAILABLE) starts with `peer`.
  asio::awaitable<absl::Status> ServerHandshake(std::string peer);

  // Shuts the socket down and closes it (TLS: no close_notify; the peer sees EOF).
  void Close();

 private:
  asio::ip::tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> context_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
};

// A client context for `options` (TLS 1.2 or later; verification unless
// skip_verify). INVALID_ARGUMENT "<field>.ca_file: cannot load '<path>': <why>"
// (likewise cert_file, key_file).
absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeClientTlsContext(
    const TlsClientOptions& options, std::string_view field);
// A server context for a listener; with ca_file, client certificates are
// required and verified. Errors as for MakeClientTlsContext.
absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(
    const TlsServerOptions& options, std::string_view field);

}  // namespace reshard::engine
