#pragma once

// DownstreamSession: one connection from a target Redis (a replica of
// reshardd) to a target's listener. It answers the replica side of the
// handshake (PING, AUTH, REPLCONF, PSYNC -- PSYNC decided by its
// DownstreamEvents), then writes whatever is enqueued (snapshot, then stream)
// and reports the replica's REPLCONF ACKs.
// Owned by shared_ptr: its coroutines keep it alive until the socket closes.
// `events` must outlive the session's socket (the master closes its sessions
// before it goes). Single-threaded: the socket's executor only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/steady_timer.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/downstream_events.h"

namespace reshard::engine {

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession> {
 public:
  // `credentials`: what the replica must AUTH with (empty password: none).
  DownstreamSession(asio::ip::tcp::socket socket, Credentials credentials,
                    DownstreamEvents* events);
  // Starts the session's coroutines on the socket's executor.
  void Start();
  // Queues bytes for the replica (never blocks; see queued_bytes()).
  void Enqueue(std::string_view bytes);
  // Closes the socket; the events get OnSessionClosed once.
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
  // Handles one command from the replica; appends the reply (if any) to `reply`.
  void HandleCommand(const std::vector<std::string_view>& args, std::string* reply);
  void HandlePsync(const std::vector<std::string_view>& args, std::string* reply);

  asio::ip::tcp::socket socket_;
  const Credentials credentials_;
  DownstreamEvents* events_;
  std::string peer_;
  std::string pending_;
  uint64_t in_flight_ = 0;
  asio::steady_timer wake_writer_;
  bool open_ = true;
  bool authenticated_ = false;
  bool capa_eof_ = false;
  std::string announced_version_;  // REPLCONF version <x.y.z>
  bool synced_ = false;            // PSYNC answered: replies stop, ACKs start
};

}  // namespace reshard::engine
