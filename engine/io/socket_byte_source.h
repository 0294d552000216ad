#pragma once

// SocketByteSource: a ByteSource that reads from a connection (a NetStream:
// TCP or TLS) on the job's event loop. Fill(n) reads until n bytes are buffered, in chunks that
// start at kFirstReadChunk and double each time a read fills one, up to kReadChunk (a link that
// carries little keeps a small buffer), so the buffer holds at most n + kReadChunk bytes. The
// stream is borrowed and must outlive the source. An idle timeout (off by default) bounds how long
// one read may wait for its first byte.

#include <string>

#include "absl/time/time.h"
#include "asio/steady_timer.hpp"
#include "engine/io/byte_source.h"
#include "engine/io/net_stream.h"

namespace reshard::engine {

class SocketByteSource : public ByteSource {
 public:
  // `peer` names the other end in error messages, e.g. "source 127.0.0.1:6379".
  SocketByteSource(NetStream* stream, std::string peer);

  // UNAVAILABLE "<peer>: connection lost (<reason>)" when the socket fails or
  // closes, or when no byte arrived for the idle timeout: "<peer>: connection
  // lost (no data for 60 s)" (whole seconds) or "(no data for 250 ms)".
  asio::awaitable<absl::Status> Fill(size_t n) override;

  // How long Fill may wait for a byte. absl::InfiniteDuration() (the default)
  // or a duration <= 0: no limit. Applies from the next read on. The expiry
  // cancels the socket's pending operations.
  void set_idle_timeout(absl::Duration timeout) { idle_timeout_ = timeout; }
  absl::Duration idle_timeout() const { return idle_timeout_; }

  uint64_t bytes_received() const { return bytes_received_; }
  const std::string& peer() const { return peer_; }

  static constexpr size_t kReadChunk = 256 << 10;
  static constexpr size_t kFirstReadChunk = 16 << 10;

 private:
  NetStream* stream_;
  std::string peer_;
  uint64_t bytes_received_ = 0;
  size_t read_chunk_ = kFirstReadChunk;
  absl::Duration idle_timeout_ = absl::InfiniteDuration();
  asio::steady_timer idle_timer_;
};

}  // namespace reshard::engine
