#pragma once

// Throwaway certificates for TLS tests, made with the openssl CLI in a
// directory of the test's own (never committed): a CA, a server certificate
// it signed for 127.0.0.1 and localhost, a client certificate it signed, and a
// second, unrelated CA (the "wrong CA"), and an expired server certificate. EC P-256 keys: fast to
// make.

#include <string>

#include "absl/status/statusor.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"

namespace reshard::testing {

struct TestCertificates {
  std::string ca_file;
  std::string server_cert;  // CN localhost, SAN IP:127.0.0.1 DNS:localhost
  std::string server_key;
  std::string client_cert;  // CN reshard-test-client
  std::string client_key;
  std::string other_ca_file;  // a CA that signed none of these
  std::string expired_cert;   // as server_cert, but expired
  std::string expired_key;

  // What a TLS test server uses: this CA, the server certificate, client
  // certificates required when `auth_clients`; its test clients present the
  // client certificate.
  RedisServerTls Server(bool auth_clients, bool tls_replication) const;
  ClientTlsFiles Client() const { return {ca_file, client_cert, client_key}; }
};

// Writes the files into `dir`. INTERNAL naming the openssl step that failed.
absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir);

}  // namespace reshard::testing
