#pragma once

// SilentListener: a TCP socket on 127.0.0.1 that listens but never accepts
// nor answers. As a job's source it hangs the job in CONNECTING, which keeps
// the job from finishing on its own.

#include <cstdint>

namespace reshard::testing {

class SilentListener {
 public:
  // Binds an ephemeral loopback port; port() is 0 if that failed.
  SilentListener();
  ~SilentListener();  // closes the socket
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace reshard::testing
