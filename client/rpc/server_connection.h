#pragma once

// ServerConnection: reshardctl's channel to reshardd, with the deadline every
// unary call gets, the bearer token every call carries, and the one way an
// RPC error is reported. TLS (--tls, --tls_ca, --tls_cert/--tls_key,
// --tls_server_name) and the token (--token_file, else $RESHARD_TOKEN) are
// read by Open; without them the channel is plain, as before.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "client/cli/ctl_args.h"
#include "reshard/v1/job_service.grpc.pb.h"

namespace reshard::client {

class ServerConnection {
 public:
  // `options` is copied. Nothing is read or made until Open (commands that
  // need no server, like help, never open one).
  explicit ServerConnection(const CtlOptions& options);

  // Reads the TLS files and the token and makes the channel to
  // options.server; nothing is sent until a call. FAILED_PRECONDITION naming
  // the option and the file ("--tls_ca: cannot read /x.pem"),
  // INVALID_ARGUMENT for "--tls_cert and --tls_key go together" or a token
  // that cannot be sent (never quoting it).
  absl::Status Open();

  // The stub of the channel Open made.
  v1::JobService::Stub& stub();

  // A unary call: the deadline (options.rpc_timeout_ms from now) and the token.
  void PrepareCall(grpc::ClientContext* context) const;
  // A streaming call: the token only (a watch lasts as long as it must).
  void Authorize(grpc::ClientContext* context) const;

  // Prints "reshardctl: CODE: message" (the server's message) to `err`, with
  // " (cannot reach reshardd at ADDR)" for UNAVAILABLE and DEADLINE_EXCEEDED.
  // Returns kExitError.
  int ReportError(const grpc::Status& status, std::ostream& err) const;

 private:
  CtlOptions options_;
  std::string token_;  // empty: none is sent
  std::unique_ptr<v1::JobService::Stub> stub_;
};

}  // namespace reshard::client
