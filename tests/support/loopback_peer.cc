#include "tests/support/loopback_peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "absl/time/clock.h"

namespace reshard::test {

LoopbackPeer::LoopbackPeer(asio::io_context* io, uint16_t port) : io_(io) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  // Small back-to-back sends must not wait for the other side's delayed ACK.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
}

LoopbackPeer::~LoopbackPeer() { Close(); }

void LoopbackPeer::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void LoopbackPeer::Send(std::string_view bytes) {
  while (fd_ >= 0 && !bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RunFor(absl::Milliseconds(1));  // let the other side read
    } else {
      return;
    }
  }
}

void LoopbackPeer::ReadAvailable() {
  char buffer[65536];
  while (fd_ >= 0) {
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      received_.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      closed_by_peer_ = true;
    }
    return;
  }
}

bool LoopbackPeer::RunUntil(const std::function<bool(const std::string&)>& done,
                            absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    ReadAvailable();
    if (done(received_)) return true;
    if (absl::Now() >= deadline) return false;
    io_->restart();
    io_->run_for(std::chrono::milliseconds(2));
  }
}

bool LoopbackPeer::WaitFor(std::string_view text, absl::Duration timeout) {
  return RunUntil([text](const std::string& got) { return got.find(text) != std::string::npos; },
                  timeout);
}

bool LoopbackPeer::WaitForBytes(size_t n, absl::Duration timeout) {
  return RunUntil([n](const std::string& got) { return got.size() >= n; }, timeout);
}

void LoopbackPeer::RunFor(absl::Duration duration) {
  RunUntil([](const std::string&) { return false; }, duration);
}

std::string LoopbackPeer::Take() {
  ReadAvailable();
  std::string out;
  out.swap(received_);
  return out;
}

}  // namespace reshard::test
