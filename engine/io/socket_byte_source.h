#pragma once

// SocketByteSource: a ByteSource that reads from a TCP socket on the job's
// event loop. Fill(n) reads until n bytes are buffered (in chunks of up to
// kReadChunk), so the buffer holds at most n + kReadChunk bytes. The socket is
// borrowed and must outlive the source.

#include <string>

#include "asio/ip/tcp.hpp"
#include "engine/io/byte_source.h"

namespace reshard::engine {

class SocketByteSource : public ByteSource {
 public:
  // `peer` names the other end in error messages, e.g. "source 127.0.0.1:6379".
  SocketByteSource(asio::ip::tcp::socket* socket, std::string peer);

  // UNAVAILABLE "<peer>: connection lost (<reason>)" when the socket fails or closes.
  asio::awaitable<absl::Status> Fill(size_t n) override;

  uint64_t bytes_received() const { return bytes_received_; }
  const std::string& peer() const { return peer_; }

  static constexpr size_t kReadChunk = 256 << 10;

 private:
  asio::ip::tcp::socket* socket_;
  std::string peer_;
  uint64_t bytes_received_ = 0;
};

}  // namespace reshard::engine
