#include "tests/support/test_pki.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace reshard::testing {
namespace {

// Runs `command` in a shell (output to `log`); an error with the log's text
// if it fails.
absl::Status Run(const std::string& command, const std::string& log) {
  const std::string line = absl::StrCat(command, " > '", log, "' 2>&1");
  if (std::system(line.c_str()) == 0) return absl::OkStatus();
  std::ifstream in(log);
  std::ostringstream text;
  text << in.rdbuf();
  return absl::InternalError(absl::StrCat("`", command, "` failed: ", text.str()));
}

}  // namespace

absl::Status MakeTestCertificate(const std::string& dir, const std::string& name,
                                 const std::string& subject, const std::string& ca,
                                 const std::string& ca_key, const std::string& extensions,
                                 int days) {
  const std::string base = absl::StrCat(dir, "/", name);
  const std::string log = absl::StrCat(base, ".log");
  const std::string new_key =
      absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '",
                   base, ".key' -subj '", subject, "'");
  if (ca.empty()) {
    if (absl::Status made =
            Run(absl::StrCat(new_key, " -x509 -days ", days, " -out '", base, ".pem'"), log);
        !made.ok()) {
      return made;
    }
  } else {
    if (absl::Status made = Run(absl::StrCat(new_key, " -out '", base, ".csr'"), log); !made.ok()) {
      return made;
    }
    std::string ext;
    if (!extensions.empty()) {
      ext = absl::StrCat(base, ".ext");
      std::ofstream(ext) << extensions << "\n";
      ext = absl::StrCat(" -extfile '", ext, "'");
    }
    if (absl::Status made =
            Run(absl::StrCat("openssl x509 -req -days ", days, " -in '", base, ".csr' -CA '", ca,
                             "' -CAkey '", ca_key, "' -CAcreateserial -out '", base, ".pem'", ext),
                log);
        !made.ok()) {
      return made;
    }
  }
  ::chmod(absl::StrCat(base, ".key").c_str(), 0600);
  return absl::OkStatus();
}

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  auto path = [&](const char* name) { return absl::StrCat(dir, "/", name); };
  TestPki pki;
  pki.ca = path("ca.pem");
  pki.server_cert = path("server.pem");
  pki.server_key = path("server.key");
  pki.client_cert = path("client.pem");
  pki.client_key = path("client.key");
  pki.other_ca = path("other_ca.pem");
  pki.other_client_cert = path("other_client.pem");
  pki.other_client_key = path("other_client.key");
  struct Step {
    const char* name;
    const char* subject;
    const char* ca;  // "" for a CA
    const char* extensions;
  };
  const Step steps[] = {
      {"ca", "/CN=reshard test CA", "", ""},
      {"server", "/CN=localhost", "ca",
       "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"},
      {"client", "/CN=reshardctl", "ca", "extendedKeyUsage=clientAuth"},
      {"other_ca", "/CN=another test CA", "", ""},
      {"other_client", "/CN=reshardctl", "other_ca", "extendedKeyUsage=clientAuth"},
  };
  for (const Step& step : steps) {
    const std::string ca = *step.ca == '\0' ? "" : absl::StrCat(dir, "/", step.ca, ".pem");
    const std::string ca_key = *step.ca == '\0' ? "" : absl::StrCat(dir, "/", step.ca, ".key");
    if (absl::Status made =
            MakeTestCertificate(dir, step.name, step.subject, ca, ca_key, step.extensions);
        !made.ok()) {
      return made;
    }
  }
  return pki;
}

}  // namespace reshard::testing
