#include "client/rpc/server_connection.h"

#include <chrono>

#include "absl/status/status.h"
#include "client/cli/exit_code.h"

namespace reshard::client {

ServerConnection::ServerConnection(const CtlOptions& options) : options_(options) {}

v1::JobService::Stub& ServerConnection::stub() {
  if (stub_ == nullptr) {
    stub_ = v1::JobService::NewStub(
        grpc::CreateChannel(options_.server, grpc::InsecureChannelCredentials()));
  }
  return *stub_;
}

void ServerConnection::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(options_.rpc_timeout_ms));
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
