#pragma once

// TestPki: certificates made at test time with the openssl CLI into a test's
// own directory (no key is ever committed): a CA, a server certificate it
// signs for "localhost" and 127.0.0.1, a client certificate it signs, and a
// second CA with a client certificate of its own (what a server that trusts
// only the first must refuse). EC P-256 keys, valid for two days.

#include <string>

#include "absl/status/statusor.h"

namespace reshard::testing {

struct TestPki {
  std::string ca;           // PEM certificate of the CA
  std::string server_cert;  // CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key;
  std::string client_cert;  // CN=reshardctl, signed by `ca`
  std::string client_key;
  std::string other_ca;           // another CA
  std::string other_client_cert;  // signed by `other_ca`
  std::string other_client_key;
};

// Writes the files into `dir` (which must exist); keys are mode 0600. The
// error holds the openssl command that failed and its output.
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir);

// One key and certificate, `dir`/`name`.key and .pem, for `subject` ("/CN=x"):
// self-signed (a CA) when `ca` is empty, else signed by `ca`/`ca_key` with
// `extensions` (openssl's -extfile syntax; may be empty), valid for `days`
// (negative: expired already).
absl::Status MakeTestCertificate(const std::string& dir, const std::string& name,
                                 const std::string& subject, const std::string& ca,
                                 const std::string& ca_key, const std::string& extensions,
                                 int days = 2);

}  // namespace reshard::testing
