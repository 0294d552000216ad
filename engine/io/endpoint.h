#pragma once

// Where reshardd connects or listens: a host and port parsed once from the
// "host:port" text of a job spec, and the credentials to present there.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::engine {

struct HostPort {
  std::string host;  // a name, an IPv4 literal, or an IPv6 literal without brackets
  uint16_t port = 0;
  // "host:port", or "[v6]:port" for an IPv6 literal.
  std::string ToString() const;
};

// Parses "host:port" or "[v6]:port". INVALID_ARGUMENT "<field>: malformed
// address '<text>': <why>" (or "<field>: address is empty").
absl::StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view field);

struct Credentials {
  std::string username;  // empty: AUTH with the password only
  std::string password;  // empty: no AUTH
};

// A Redis server reshardd connects to as a client or replica.
struct RedisEndpoint {
  HostPort address;
  Credentials credentials;
};

}  // namespace reshard::engine
