#include "server/api_security.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/base/status_macros.h"

namespace reshard::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(flag), ": cannot read ", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// The first certificate of a PEM text.
X509Ptr FirstCertificate(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
}

absl::StatusOr<X509Ptr> LoadCertificate(const std::string& path, std::string_view flag,
                                        std::string* pem) {
  ASSIGN_OR_RETURN(*pem, ReadPem(path, flag));
  X509Ptr certificate = FirstCertificate(*pem);
  if (certificate == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(flag), ": ", path, ": not a PEM certificate"));
  }
  return certificate;
}

}  // namespace

std::string ApiSecurity::Describe() const {
  std::vector<std::string> parts;
  parts.push_back(tls ? "TLS" : "no TLS");
  if (client_certificates) parts.push_back("client certificates required");
  parts.push_back(token.has_value() ? "bearer token required" : "no token");
  return absl::StrJoin(parts, ", ");
}

absl::StatusOr<ApiSecurity> LoadApiSecurity(const ApiSecurityOptions& options) {
  ApiSecurity security;
  security.allow_insecure = options.allow_insecure;
  if (!options.auth_token_file.empty()) {
    ASSIGN_OR_RETURN(ApiToken token, ApiToken::FromFile(options.auth_token_file));
    security.token = std::move(token);
  }
  const bool has_cert = !options.tls_cert_file.empty();
  if (has_cert != !options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--grpc_tls_cert and --grpc_tls_key go together");
  }
  if (!options.tls_client_ca_file.empty() && !has_cert) {
    return absl::InvalidArgumentError(
        "--grpc_tls_client_ca needs --grpc_tls_cert and --grpc_tls_key (client certificates "
        "are asked for during the TLS handshake)");
  }
  if (!has_cert) {
    security.credentials = grpc::InsecureServerCredentials();
    return security;
  }
  std::string cert_pem;
  ASSIGN_OR_RETURN(X509Ptr certificate,
                   LoadCertificate(options.tls_cert_file, "--grpc_tls_cert", &cert_pem));
  ASSIGN_OR_RETURN(std::string key_pem, ReadPem(options.tls_key_file, "--grpc_tls_key"));
  {
    Bio bio = MemoryBio(key_pem);
    KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--grpc_tls_key: ", options.tls_key_file, ": not a PEM private key"));
    }
    if (X509_check_private_key(certificate.get(), key.get()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("--grpc_tls_key: ", options.tls_key_file,
                                                     " does not match the certificate of "
                                                     "--grpc_tls_cert (",
                                                     options.tls_cert_file, ")"));
    }
  }
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({key_pem, cert_pem});
  if (!options.tls_client_ca_file.empty()) {
    std::string ca_pem;
    ASSIGN_OR_RETURN(X509Ptr ca,
                     LoadCertificate(options.tls_client_ca_file, "--grpc_tls_client_ca", &ca_pem));
    ssl.pem_root_certs = ca_pem;
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    security.client_certificates = true;
  }
  security.credentials = grpc::SslServerCredentials(ssl);
  security.tls = true;
  return security;
}

bool IsLoopbackListenAddress(std::string_view address) {
  if (address.starts_with("unix:") || address.starts_with("unix-abstract:")) {
    return true;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;  // a bare port: every interface
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;  // a wildcard, an interface's address, or a name that may resolve to one
}

absl::Status CheckListenAddress(std::string_view flag, std::string_view address, bool is_protected,
                                bool allow_insecure, std::string_view risk,
                                std::string_view remedy) {
  if (allow_insecure || is_protected || IsLoopbackListenAddress(address)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat(std::string(flag), "=", std::string(address),
                   " is not a loopback address and nothing protects it: ", std::string(risk), ". ",
                   std::string(remedy),
                   ", listen on 127.0.0.1, or pass --allow_insecure if the network is trusted"));
}

}  // namespace reshard::server
