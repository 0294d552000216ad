#pragma once

// DownstreamSession: one connection from a target Redis (a replica of
// reshardd) to a target's listener. It answers the replica side of the
// handshake (PING, AUTH, REPLCONF, PSYNC), then writes whatever its Target
// enqueues (snapshot, then stream) and reads the replica's REPLCONF ACKs.
// Owned by shared_ptr: its coroutines keep it alive until the socket closes.
// Job thread only.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/steady_timer.hpp"

namespace reshard::engine {

class Target;

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession> {
 public:
  DownstreamSession(asio::ip::tcp::socket socket, Target* target);

  // Starts the session's coroutines on the socket's executor.
  void Start();
  // Queues bytes for the replica (never blocks; see queued_bytes()).
  void Enqueue(std::string_view bytes);
  // Closes the socket; the Target is told through OnSessionClosed once.
  void Close(absl::Status why);

  // Bytes enqueued and not yet written to the socket.
  uint64_t queued_bytes() const { return pending_.size() + in_flight_; }
  // Bytes enqueued and not yet handed to the socket (the next write).
  uint64_t pending_bytes() const { return pending_.size(); }
  const std::string& peer() const { return peer_; }
  bool open() const { return open_; }

 private:
  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WriteLoop();
  // Handles one command from the replica; returns the reply to send (may be empty).
  std::string HandleCommand(const std::vector<std::string_view>& args);

  asio::ip::tcp::socket socket_;
  Target* target_;
  std::string peer_;
  std::string pending_;
  uint64_t in_flight_ = 0;
  asio::steady_timer wake_writer_;
  bool open_ = true;
  bool authenticated_ = false;
  bool capa_eof_ = false;
  bool synced_ = false;  // PSYNC answered: replies stop, ACKs start
};

}  // namespace reshard::engine
