#include "tests/support/stall_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace reshard::testing {
namespace {

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Moves what is readable on `from` to `to`; false once either side is done.
bool Pump(int from, int to) {
  char buffer[16384];
  ssize_t n = ::recv(from, buffer, sizeof(buffer), 0);
  return n > 0 && WriteAll(to, buffer, static_cast<size_t>(n));
}

}  // namespace

absl::StatusOr<std::unique_ptr<StallProxy>> StallProxy::Start(uint16_t server_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string error = std::strerror(errno);
    ::close(fd);
    return absl::InternalError(absl::StrCat("stall proxy: cannot listen: ", error));
  }
  return std::unique_ptr<StallProxy>(new StallProxy(fd, ntohs(addr.sin_port), server_port));
}

StallProxy::StallProxy(int listen_fd, uint16_t port, uint16_t server_port)
    : listen_fd_(listen_fd), port_(port), server_port_(server_port) {
  acceptor_ = std::thread([this] { Accept(); });
}

StallProxy::~StallProxy() {
  stop_ = true;
  acceptor_.join();
  absl::MutexLock lock(&mu_);
  for (std::thread& forwarder : forwarders_) forwarder.join();
  for (const auto& connection : connections_) {
    ::close(connection->client);
    ::close(connection->server);
  }
  ::close(listen_fd_);
}

std::string StallProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

int StallProxy::Stall() {
  absl::MutexLock lock(&mu_);
  int stalled = 0;
  for (const auto& connection : connections_) {
    if (!connection->stalled.exchange(true)) ++stalled;
  }
  return stalled;
}

void StallProxy::Accept() {
  while (!stop_) {
    pollfd accept_poll{listen_fd_, POLLIN, 0};
    if (::poll(&accept_poll, 1, 50) <= 0) continue;
    int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    int server = ConnectLoopback(server_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    ++accepted_;
    absl::MutexLock lock(&mu_);
    connections_.push_back(std::make_unique<Connection>());
    Connection* connection = connections_.back().get();
    connection->client = client;
    connection->server = server;
    forwarders_.emplace_back([this, connection] { Forward(connection); });
  }
}

void StallProxy::Forward(Connection* connection) {
  bool open = true;
  while (open && !stop_) {
    if (connection->stalled) {
      // Frozen: neither read nor closed, whatever the peers do.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    pollfd fds[2] = {{connection->client, POLLIN, 0}, {connection->server, POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0 || connection->stalled) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      open = Pump(connection->client, connection->server);
    }
    if (open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      open = Pump(connection->server, connection->client);
    }
  }
  // A closed pair is shut down here (the sockets are closed by the destructor)
  // so that the other peer sees the end at once.
  if (!open) {
    ::shutdown(connection->client, SHUT_RDWR);
    ::shutdown(connection->server, SHUT_RDWR);
  }
}

}  // namespace reshard::testing
