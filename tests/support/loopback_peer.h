#pragma once

// LoopbackPeer: the other end of a loopback TCP connection, for unit tests of
// reshardd's network stages (a fake replica of a target master, say). It uses
// plain non-blocking sockets and, while it waits, runs the asio io_context of
// the code under test on the same thread, so no test needs a second thread.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "asio/io_context.hpp"

namespace reshard::test {

class LoopbackPeer {
 public:
  // Connects to 127.0.0.1:port (the connect completes in the kernel's backlog).
  LoopbackPeer(asio::io_context* io, uint16_t port);
  ~LoopbackPeer();
  LoopbackPeer(const LoopbackPeer&) = delete;
  LoopbackPeer& operator=(const LoopbackPeer&) = delete;

  bool connected() const { return fd_ >= 0; }
  void Send(std::string_view bytes);
  // Runs the io_context and reads until `done(received())` holds or `timeout`
  // passes; returns whether it held.
  bool RunUntil(const std::function<bool(const std::string&)>& done,
                absl::Duration timeout = absl::Seconds(5));
  // RunUntil the received bytes hold `text`.
  bool WaitFor(std::string_view text, absl::Duration timeout = absl::Seconds(5));
  // RunUntil at least `n` bytes arrived.
  bool WaitForBytes(size_t n, absl::Duration timeout = absl::Seconds(5));
  // Runs the io_context for `duration`, reading whatever arrives.
  void RunFor(absl::Duration duration);
  // True once the other side closed the connection.
  bool closed_by_peer() const { return closed_by_peer_; }
  // Everything received so far; Take() returns it and clears it.
  const std::string& received() const { return received_; }
  std::string Take();
  void Close();

 private:
  void ReadAvailable();

  asio::io_context* io_;
  int fd_ = -1;
  bool closed_by_peer_ = false;
  std::string received_;
};

}  // namespace reshard::test
