#pragma once

// FaultProxy: a TCP proxy on a free loopback port in front of a real server,
// for fault-injection tests. It forwards one client connection at a time;
// `mutate` may change the bytes flowing from the server to the client (it is
// given the stream offset of the chunk and may edit it in place).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace reshard::testing {

class FaultProxy {
 public:
  using Mutator = std::function<void(uint64_t offset, std::string* chunk)>;

  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(uint16_t server_port, Mutator mutate);
  ~FaultProxy();  // stops and joins

  uint16_t port() const { return port_; }
  std::string address() const;

 private:
  FaultProxy(int listen_fd, uint16_t port, uint16_t server_port, Mutator mutate);
  void Serve();

  int listen_fd_;
  uint16_t port_;
  uint16_t server_port_;
  Mutator mutate_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace reshard::testing
