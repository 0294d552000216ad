#pragma once

// Whether two addresses of a job spec name the same server under different
// names (localhost:6379 and 127.0.0.1:6379), so that reshardd can refuse to
// listen on, or send REPLICAOF to, its own source. Host names are resolved
// (getaddrinfo: /etc/hosts, then DNS); a name that does not resolve is only
// compared as written.

#include <string>
#include <vector>

#include "engine/io/endpoint.h"

namespace reshard::engine {

// The numeric addresses `host` resolves to ("127.0.0.1", "::1"), sorted and
// unique; the host itself when it is numeric; empty when it does not resolve.
std::vector<std::string> ResolveHostAddresses(const std::string& host);

// Whether `a` and `b` have the same port and an address in common; a
// wildcard host (0.0.0.0, ::) stands for every address of this machine.
bool SameServerAddress(const HostPort& a, const HostPort& b);

}  // namespace reshard::engine
