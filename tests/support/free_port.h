#pragma once

// Loopback ports for servers that tests start.

#include <cstdint>

namespace reshard::testing {

// A TCP port that was free on 127.0.0.1 a moment ago: binds port 0, reads the
// port the kernel chose, closes. Never returns the same port twice in one
// process (a server started with an earlier port may not be listening yet).
// Another process may still take it before the caller binds it: callers that
// start a server retry on "address in use". Aborts the test binary if no
// socket can be bound at all (a broken test environment, not input).
uint16_t PickFreePort();

}  // namespace reshard::testing
