#include "engine/io/net_stream.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"

namespace reshard::engine {
namespace {

std::string S(std::string_view text) { return std::string(text); }

// The file exists and can be read: a clearer error than OpenSSL's.
absl::Status CheckReadable(const std::string& path, std::string_view field) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(field), ": cannot read '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status LoadError(std::string_view field, const std::string& path,
                       const asio::error_code& ec) {
  return absl::InvalidArgumentError(
      absl::StrCat(S(field), ": cannot load '", path, "': ", ec.message()));
}

// The certificate and key files of one side, when given.
absl::Status LoadIdentity(asio::ssl::context& context, const std::string& cert_file,
                          const std::string& key_file, std::string_view field) {
  if (cert_file.empty() && key_file.empty()) return absl::OkStatus();
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(field), ": cert_file and key_file go together (",
                     cert_file.empty() ? "cert" : "key", "_file missing)"));
  }
  const std::string cert_field = absl::StrCat(S(field), ".cert_file");
  const std::string key_field = absl::StrCat(S(field), ".key_file");
  if (absl::Status s = CheckReadable(cert_file, cert_field); !s.ok()) return s;
  if (absl::Status s = CheckReadable(key_file, key_field); !s.ok()) return s;
  asio::error_code ec;
  context.use_certificate_chain_file(cert_file, ec);
  if (ec) return LoadError(cert_field, cert_file, ec);
  context.use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return LoadError(key_field, key_file, ec);
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(key_field), ": '", key_file, "' is not the key of '", cert_file, "'"));
  }
  return absl::OkStatus();
}

absl::Status LoadCa(asio::ssl::context& context, const std::string& ca_file,
                    std::string_view field) {
  const std::string ca_field = absl::StrCat(S(field), ".ca_file");
  if (absl::Status s = CheckReadable(ca_file, ca_field); !s.ok()) return s;
  asio::error_code ec;
  context.load_verify_file(ca_file, ec);
  if (ec) return LoadError(ca_field, ca_file, ec);
  return absl::OkStatus();
}

constexpr long kContextOptions = asio::ssl::context::default_workarounds |
                                 asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                                 asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1;

bool IsIpLiteral(const std::string& host) {
  asio::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

NetStream::NetStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context)
    : socket_(socket.get_executor()),
      context_(std::move(context)),
      tls_(std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(socket),
                                                                      *context_)) {}

asio::awaitable<absl::Status> NetStream::ClientHandshake(TlsClientOptions options, std::string host,
                                                         std::string peer) {
  SSL* ssl = tls_->native_handle();
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  if (!IsIpLiteral(name)) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (!options.skip_verify) {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    if (IsIpLiteral(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
      SSL_set1_host(ssl, name.c_str());
    }
  } else {
    tls_->set_verify_mode(asio::ssl::verify_none);
  }
  asio::error_code ec;
  co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                 asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_return absl::OkStatus();
  const long verify = SSL_get_verify_result(ssl);
  if (!options.skip_verify && verify != X509_V_OK) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(peer, ": TLS handshake failed: certificate verify failed (",
                     X509_verify_cert_error_string(verify), ")"));
  }
  std::string reason = ec == asio::error::eof ? "closed by peer" : ec.message();
  co_return absl::UnavailableError(absl::StrCat(peer, ": TLS handshake failed: ", reason));
}

asio::awaitable<absl::Status> NetStream::ServerHandshake(std::string peer) {
  asio::error_code ec;
  co_await tls_->async_handshake(asio::ssl::stream_base::server,
                                 asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_return absl::OkStatus();
  std::string reason = ec == asio::error::eof ? "closed by peer" : ec.message();
  co_return absl::UnavailableError(absl::StrCat(peer, ": TLS handshake failed: ", reason));
}

void NetStream::Close() {
  asio::error_code ec;
  socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeClientTlsContext(
    const TlsClientOptions& options, std::string_view field) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(kContextOptions);
  if (!options.ca_file.empty()) {
    if (absl::Status s = LoadCa(*context, options.ca_file, field); !s.ok()) return s;
  } else {
    asio::error_code ec;
    context->set_default_verify_paths(ec);
  }
  if (absl::Status s = LoadIdentity(*context, options.cert_file, options.key_file, field);
      !s.ok()) {
    return s;
  }
  return context;
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(
    const TlsServerOptions& options, std::string_view field) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(kContextOptions);
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(field), ": a TLS listener needs cert_file and key_file"));
  }
  if (absl::Status s = LoadIdentity(*context, options.cert_file, options.key_file, field);
      !s.ok()) {
    return s;
  }
  if (!options.ca_file.empty()) {
    if (absl::Status s = LoadCa(*context, options.ca_file, field); !s.ok()) return s;
    context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

}  // namespace reshard::engine
