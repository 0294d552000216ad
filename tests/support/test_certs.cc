#include "tests/support/test_certs.h"

#include "tests/support/test_pki.h"

namespace reshard::testing {

RedisServerTls TestCertificates::Server(bool auth_clients, bool tls_replication) const {
  RedisServerTls tls;
  tls.cert_file = server_cert;
  tls.key_file = server_key;
  tls.ca_file = ca_file;
  tls.auth_clients = auth_clients;
  tls.tls_replication = tls_replication;
  tls.client = Client();
  return tls;
}

absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir) {
  auto pem = [&](const char* name) { return dir + "/" + name + ".pem"; };
  auto key = [&](const char* name) { return dir + "/" + name + ".key"; };
  const std::string san = "subjectAltName=IP:127.0.0.1,DNS:localhost";
  struct Step {
    const char* name;
    const char* subject;
    const char* ca;  // "" for a CA
    std::string extensions;
    int days;
  };
  const Step steps[] = {
      {"ca", "/CN=reshard-test-ca", "", "", 2},
      {"other-ca", "/CN=reshard-other-ca", "", "", 2},
      {"server", "/CN=localhost", "ca", san, 2},
      {"expired", "/CN=localhost", "ca", san, -1},  // expired before it began
      {"client", "/CN=reshard-test-client", "ca", "", 2},
  };
  for (const Step& step : steps) {
    const bool self_signed = *step.ca == '\0';
    if (absl::Status made =
            MakeTestCertificate(dir, step.name, step.subject, self_signed ? "" : pem(step.ca),
                                self_signed ? "" : key(step.ca), step.extensions, step.days);
        !made.ok()) {
      return made;
    }
  }
  TestCertificates certs;
  certs.ca_file = pem("ca");
  certs.server_cert = pem("server");
  certs.server_key = key("server");
  certs.client_cert = pem("client");
  certs.client_key = key("client");
  certs.other_ca_file = pem("other-ca");
  certs.expired_cert = pem("expired");
  certs.expired_key = key("expired");
  return certs;
}

}  // namespace reshard::testing
