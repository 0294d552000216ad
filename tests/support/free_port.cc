#include "tests/support/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

namespace reshard::testing {
namespace {

uint16_t BindEphemeralPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  uint16_t port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

uint16_t PickFreePort() {
  static std::mutex mu;
  static std::set<uint16_t>* handed_out = new std::set<uint16_t>();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint16_t port = BindEphemeralPort();
    if (port == 0 || port == 6379) continue;
    std::lock_guard<std::mutex> lock(mu);
    if (handed_out->insert(port).second) return port;
  }
  std::fprintf(stderr, "PickFreePort: cannot find a free loopback port\n");
  std::abort();
}

}  // namespace reshard::testing
