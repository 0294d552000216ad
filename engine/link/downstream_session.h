#pragma once

// DownstreamSession: one connection from a target Redis (a replica of
// reshardd) to a target's listener. It answers the replica side of the
// handshake (PING, AUTH, REPLCONF, PSYNC -- PSYNC decided by its
// DownstreamEvents), then writes whatever is enqueued (snapshot, then stream)
// and reports the replica's REPLCONF ACKs. A replica that has not been
// answered +FULLRESYNC / +CONTINUE within the handshake timeout is closed.
// Owned by shared_ptr: its coroutines keep it alive until the socket closes.
// `events` must outlive the session's socket (the master closes its sessions
// before it goes). Single-threaded: the socket's executor only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/steady_timer.hpp"
#include "engine/io/endpoint.h"
#include "engine/io/net_stream.h"
#include "engine/link/downstream_events.h"

namespace reshard::engine {

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession> {
 public:
  struct Options {
    Credentials credentials;  // what the replica must AUTH with (empty password: none)
    // From Start() until PSYNC is answered; past it the session closes with
    // DEADLINE_EXCEEDED "replica <peer> did not complete its handshake within
    // <N> ms". absl::InfiniteDuration(): no limit.
    absl::Duration handshake_timeout = absl::Seconds(10);
  };

  DownstreamSession(NetStream stream, Options options, DownstreamEvents* events);
  // Starts the session's coroutines (and the handshake timer) on the socket's executor.
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
  // PSYNC was answered +FULLRESYNC or +CONTINUE: the replica streams and ACKs.
  bool synced() const { return synced_; }
  // When the last REPLCONF ACK arrived, or PSYNC was answered if no ACK came
  // since; absl::InfinitePast() before that.
  absl::Time last_ack_time() const { return last_ack_time_; }

 private:
  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WriteLoop();
  void StartHandshakeTimer();
  void MarkSynced();  // PSYNC answered +FULLRESYNC or +CONTINUE
  // Handles one command from the replica; appends the reply (if any) to `reply`.
  void HandleCommand(const std::vector<std::string_view>& args, std::string* reply);
  void HandlePsync(const std::vector<std::string_view>& args, std::string* reply);

  NetStream stream_;
  const Options options_;
  DownstreamEvents* events_;
  std::string peer_;
  std::string pending_;
  uint64_t in_flight_ = 0;
  asio::steady_timer wake_writer_;
  asio::steady_timer handshake_timer_;
  bool open_ = true;
  bool authenticated_ = false;
  bool capa_eof_ = false;
  std::string peer_host_;
  std::string listening_port_;     // REPLCONF listening-port <port>
  std::string announced_version_;  // REPLCONF version <x.y.z>
  bool synced_ = false;            // PSYNC answered: replies stop, ACKs start
  absl::Time last_ack_time_ = absl::InfinitePast();
};

}  // namespace reshard::engine
