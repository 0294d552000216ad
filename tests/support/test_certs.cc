#include "tests/support/test_certs.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace reshard::testing {
namespace {

absl::Status Run(const std::string& command, const std::string& log) {
  const std::string line = absl::StrCat(command, " >>", log, " 2>&1");
  if (std::system(line.c_str()) != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return absl::InternalError(absl::StrCat("'", command, "' failed:\n", text));
  }
  return absl::OkStatus();
}

// A key and a certificate signed by `ca` (or self-signed when `ca` is empty).
absl::Status MakeCertificate(const std::string& dir, const std::string& name,
                             const std::string& subject, const std::string& ca,
                             const std::string& extensions, int days = 2) {
  const std::string log = dir + "/openssl.log";
  const std::string key = absl::StrCat(dir, "/", name, ".key");
  const std::string crt = absl::StrCat(dir, "/", name, ".crt");
  const std::string newkey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  if (ca.empty()) {
    return Run(absl::StrCat("openssl req -x509 ", newkey, " -keyout ", key, " -out ", crt,
                            " -days 2 -subj ", subject),
               log);
  }
  const std::string csr = absl::StrCat(dir, "/", name, ".csr");
  if (absl::Status s = Run(
          absl::StrCat("openssl req ", newkey, " -keyout ", key, " -out ", csr, " -subj ", subject),
          log);
      !s.ok()) {
    return s;
  }
  std::string ext;
  if (!extensions.empty()) {
    const std::string ext_file = absl::StrCat(dir, "/", name, ".ext");
    std::ofstream(ext_file) << extensions << "\n";
    ext = absl::StrCat(" -extfile ", ext_file);
  }
  return Run(absl::StrCat("openssl x509 -req -in ", csr, " -CA ", dir, "/", ca, ".crt -CAkey ", dir,
                          "/", ca, ".key -CAcreateserial -out ", crt, " -days ", days, ext),
             log);
}

}  // namespace

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
  if (absl::Status s = MakeCertificate(dir, "ca", "/CN=reshard-test-ca", "", ""); !s.ok()) return s;
  if (absl::Status s = MakeCertificate(dir, "other-ca", "/CN=reshard-other-ca", "", ""); !s.ok()) {
    return s;
  }
  if (absl::Status s = MakeCertificate(dir, "server", "/CN=localhost", "ca",
                                       "subjectAltName=IP:127.0.0.1,DNS:localhost");
      !s.ok()) {
    return s;
  }
  // -days -1: it expired before it began.
  if (absl::Status s = MakeCertificate(dir, "expired", "/CN=localhost", "ca",
                                       "subjectAltName=IP:127.0.0.1,DNS:localhost", -1);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = MakeCertificate(dir, "client", "/CN=reshard-test-client", "ca", "");
      !s.ok()) {
    return s;
  }
  TestCertificates certs;
  certs.ca_file = dir + "/ca.crt";
  certs.server_cert = dir + "/server.crt";
  certs.server_key = dir + "/server.key";
  certs.client_cert = dir + "/client.crt";
  certs.client_key = dir + "/client.key";
  certs.other_ca_file = dir + "/other-ca.crt";
  certs.expired_cert = dir + "/expired.crt";
  certs.expired_key = dir + "/expired.key";
  return certs;
}

}  // namespace reshard::testing
