#pragma once

// StallProxy: a TCP proxy on a free loopback port in front of a real server,
// for any number of connections at once (a thread each). Stall() freezes the
// connections open at that moment: nothing more is forwarded either way and
// nothing is closed, as a dead network leaves a link half-open. Connections
// accepted afterwards are forwarded normally.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace reshard::testing {

class StallProxy {
 public:
  static absl::StatusOr<std::unique_ptr<StallProxy>> Start(uint16_t server_port);
  StallProxy(const StallProxy&) = delete;
  StallProxy& operator=(const StallProxy&) = delete;
  ~StallProxy();  // stops every connection thread, joins them, closes every socket

  uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:<port>"

  // Freezes every connection open now; returns how many.
  int Stall();
  // Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  struct Connection {
    int client = -1;
    int server = -1;
    std::atomic<bool> stalled{false};
  };

  StallProxy(int listen_fd, uint16_t port, uint16_t server_port);
  void Accept();
  void Forward(Connection* connection);

  int listen_fd_;
  uint16_t port_;
  uint16_t server_port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> forwarders_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace reshard::testing
