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

// TLS to a server reshardd connects to (the source, a managed target).
// Disabled: plain TCP. The certificate is verified by default: against
// ca_file (empty: the system's trust store), and the name in it against
// server_name (empty: the address's host; an IP literal is matched against
// the certificate's IP addresses).
struct TlsClientOptions {
  bool enabled = false;
  std::string ca_file;
  std::string cert_file;  // a client certificate (for tls-auth-clients yes), with key_file
  std::string key_file;
  std::string server_name;
  bool skip_verify = false;  // insecure: no certificate or name check
};

// TLS on a target's listener: its certificate and key; with ca_file every
// connecting replica must present a certificate signed by it.
struct TlsServerOptions {
  bool enabled = false;
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
};

// A Redis server reshardd connects to as a client or replica.
struct RedisEndpoint {
  HostPort address;
  Credentials credentials;
  TlsClientOptions tls;
};

}  // namespace reshard::engine
