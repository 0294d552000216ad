#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(uint16_t server_port,
                                                              Mutator mutate) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string error = std::strerror(errno);
    ::close(fd);
    return absl::InternalError(absl::StrCat("fault proxy: cannot listen: ", error));
  }
  return std::unique_ptr<FaultProxy>(
      new FaultProxy(fd, ntohs(addr.sin_port), server_port, std::move(mutate)));
}

FaultProxy::FaultProxy(int listen_fd, uint16_t port, uint16_t server_port, Mutator mutate)
    : listen_fd_(listen_fd), port_(port), server_port_(server_port), mutate_(std::move(mutate)) {
  thread_ = std::thread([this] { Serve(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string FaultProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void FaultProxy::Serve() {
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
    uint64_t from_server = 0;
    char buffer[16384];
    bool open = true;
    while (open && !stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
        open = n > 0 && WriteAll(server, buffer, static_cast<size_t>(n));
      }
      if (open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = ::recv(server, buffer, sizeof(buffer), 0);
        if (n <= 0) {
          open = false;
        } else {
          std::string chunk(buffer, static_cast<size_t>(n));
          if (mutate_) mutate_(from_server, &chunk);
          from_server += static_cast<uint64_t>(n);
          open = WriteAll(client, chunk.data(), chunk.size());
        }
      }
    }
    ::close(client);
    ::close(server);
  }
}

}  // namespace reshard::testing
