#pragma once

// ServerConnection: reshardctl's channel to reshardd, with the deadline every
// unary call gets and the one way an RPC error is reported.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>

#include "client/cli/ctl_args.h"
#include "reshard/v1/job_service.grpc.pb.h"

namespace reshard::client {

class ServerConnection {
 public:
  // `options` is copied. The channel to `options.server` is created by the
  // first stub() (commands that need no server, like help, never make one);
  // nothing is sent until a call.
  explicit ServerConnection(const CtlOptions& options);

  v1::JobService::Stub& stub();

  // Sets the deadline of a unary call: options.rpc_timeout_ms from now.
  void SetDeadline(grpc::ClientContext* context) const;

  // Prints "reshardctl: CODE: message" (the server's message) to `err`, with
  // " (cannot reach reshardd at ADDR)" for UNAVAILABLE and DEADLINE_EXCEEDED.
  // Returns kExitError.
  int ReportError(const grpc::Status& status, std::ostream& err) const;

 private:
  CtlOptions options_;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

}  // namespace reshard::client
