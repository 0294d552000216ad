#pragma once

// How reshardd's gRPC API is protected, loaded and checked once at start:
// TLS (--grpc_tls_cert/--grpc_tls_key), client certificates required and
// verified against --grpc_tls_client_ca (mTLS), a bearer token
// (--auth_token_file, server/api_token.h); and the rule that neither the API
// nor /metrics listens on a non-loopback address unprotected unless
// --allow_insecure says so.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/api_token.h"

namespace reshard::server {

struct ApiSecurityOptions {
  std::string tls_cert_file;       // PEM certificate chain of the server
  std::string tls_key_file;        // PEM private key of that certificate
  std::string tls_client_ca_file;  // PEM CA(s): client certificates required and verified
  std::string auth_token_file;     // the bearer token (owner-only file)
  bool allow_insecure = false;     // allow an unprotected non-loopback listener
};

struct ApiSecurity {
  // TLS credentials, or insecure ones when no certificate is given.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::optional<ApiToken> token;  // nullopt: no token required
  bool tls = false;
  bool client_certificates = false;
  bool allow_insecure = false;

  // "TLS, client certificates, bearer token" / "no TLS, no token": for the log.
  std::string Describe() const;
};

// Reads and checks every file named in `options`. Errors name the flag and the
// file: "--grpc_tls_key: /etc/k.pem: not a PEM private key", "--grpc_tls_key:
// /etc/k.pem does not match the certificate of --grpc_tls_cert", "--grpc_tls_cert
// and --grpc_tls_key go together", "--grpc_tls_client_ca needs --grpc_tls_cert",
// and those of ApiToken::FromFile.
absl::StatusOr<ApiSecurity> LoadApiSecurity(const ApiSecurityOptions& options);

// Whether `address` ("host:port", "[v6]:port", a bare port for all interfaces,
// "unix:PATH") can only be reached from this machine: 127.0.0.0/8, ::1,
// "localhost", a Unix socket.
bool IsLoopbackListenAddress(std::string_view address);

// FAILED_PRECONDITION when `address` (the value of `flag`) is not loopback,
// nothing protects it and `allow_insecure` is false. `risk` says what an
// open listener would give away, and `remedy` how to protect it; both go
// into the message: "--grpc_listen=0.0.0.0:50051 is not a loopback address
// and nothing protects it: <risk>. <remedy>, listen on 127.0.0.1, or pass
// --allow_insecure if the network is trusted".
absl::Status CheckListenAddress(std::string_view flag, std::string_view address, bool is_protected,
                                bool allow_insecure, std::string_view risk,
                                std::string_view remedy);

}  // namespace reshard::server
