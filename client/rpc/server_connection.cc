#include "client/rpc/server_connection.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/cli/exit_code.h"

namespace reshard::client {
namespace {

absl::Status ReadTextFile(const std::string& path, const char* option, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat(option, ": cannot read ", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return absl::OkStatus();
}

// The token as a metadata value can carry it: printable ASCII, no spaces.
absl::Status CheckToken(const std::string& token, const std::string& where) {
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": the token is empty"));
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a token is printable ASCII without spaces or control characters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ServerConnection::ServerConnection(const CtlOptions& options) : options_(options) {}

absl::Status ServerConnection::Open() {
  if (!options_.token_file.empty()) {
    std::string text;
    if (absl::Status read = ReadTextFile(options_.token_file, "--token_file", &text); !read.ok()) {
      return read;
    }
    token_ = std::string(absl::StripAsciiWhitespace(text));
    if (absl::Status ok = CheckToken(token_, "--token_file " + options_.token_file); !ok.ok()) {
      return ok;
    }
  } else if (const char* env = std::getenv("RESHARD_TOKEN"); env != nullptr && *env != '\0') {
    token_ = std::string(absl::StripAsciiWhitespace(env));
    if (absl::Status ok = CheckToken(token_, "RESHARD_TOKEN"); !ok.ok()) return ok;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments arguments;
  if (options_.tls) {
    if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options_.tls_ca_file.empty()) {
      if (absl::Status read = ReadTextFile(options_.tls_ca_file, "--tls_ca", &ssl.pem_root_certs);
          !read.ok()) {
        return read;
      }
    }
    if (!options_.tls_cert_file.empty()) {
      if (absl::Status read =
              ReadTextFile(options_.tls_cert_file, "--tls_cert", &ssl.pem_cert_chain);
          !read.ok()) {
        return read;
      }
      if (absl::Status read =
              ReadTextFile(options_.tls_key_file, "--tls_key", &ssl.pem_private_key);
          !read.ok()) {
        return read;
      }
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options_.tls_server_name.empty()) {
      arguments.SetSslTargetNameOverride(options_.tls_server_name);
    }
  }
  stub_ =
      v1::JobService::NewStub(grpc::CreateCustomChannel(options_.server, credentials, arguments));
  return absl::OkStatus();
}

v1::JobService::Stub& ServerConnection::stub() { return *stub_; }

void ServerConnection::PrepareCall(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(options_.rpc_timeout_ms));
  Authorize(context);
}

void ServerConnection::Authorize(grpc::ClientContext* context) const {
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
}

int ServerConnection::ReportError(const grpc::Status& status, std::ostream& err) const {
  err << "reshardctl: "
      << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) << ": "
      << status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    err << " (cannot reach reshardd at " << options_.server << ")";
  }
  err << "\n";
  return kExitError;
}

}  // namespace reshard::client
