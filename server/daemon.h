#pragma once

// Daemon: everything reshardd runs, in one object so that tests can start it
// in-process: the JobManager (restored from --state_dir), the gRPC server
// (JobService, health, and reflection when no token is required: reflection
// cannot check one) and the /metrics exporter.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/api_security.h"
#include "server/job_manager.h"
#include "server/job_service.h"
#include "server/metrics_exporter.h"
#include "server/state_dir_lock.h"

namespace reshard::server {

struct DaemonOptions {
  std::string grpc_listen = "127.0.0.1:50051";    // port 0: pick a free one
  std::string metrics_listen = "127.0.0.1:9121";  // empty: no /metrics
  std::string state_dir;                          // empty: nothing persisted
  // When the jobs' durable state is fsynced (appendfsync: always, everysec, no).
  engine::FsyncPolicy state_fsync = engine::FsyncPolicy::kEverySec;
  // Where jobs keep their targets' spool files. Empty: <state_dir>/spool when
  // state_dir is set, else the engine uses the system's temp dir.
  std::string spool_dir;
  // TLS, client certificates and the bearer token of the API, and whether an
  // unprotected non-loopback listener is accepted (server/api_security.h).
  ApiSecurityOptions api;
  // A 256-bit key (server/secret_box.h): the jobs' secret files are then
  // encrypted at rest. Empty: they are plain JSON, mode 0600.
  std::string secrets_key_file;
};

class Daemon {
 public:
  // Checks the API's security and the listen addresses (FAILED_PRECONDITION
  // for an unprotected non-loopback listener, naming the flag and why; errors
  // naming the flag and file for a certificate, token or key that cannot be
  // used), makes the state dir 0700 (created so, or tightened, logged), locks
  // it (FAILED_PRECONDITION naming the PID of another reshardd that holds
  // it), restores persisted jobs, then starts serving. UNAVAILABLE when an
  // address cannot be bound, an error naming the file when the state cannot
  // be read.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const DaemonOptions& options);
  ~Daemon();  // Shutdown()
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Stops the jobs (without persisting the cancellation, so that they restart
  // with the next reshardd), ends WatchJob streams, stops both servers.
  // Idempotent.
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }
  JobManager& manager() { return *manager_; }
  const ApiSecurity& api_security() const { return api_security_; }

 private:
  Daemon() = default;

  std::unique_ptr<StateDirLock> lock_;  // released last
  ApiSecurity api_security_;            // before service_, which points at its token
  std::unique_ptr<JobManager> manager_;
  std::unique_ptr<JobServiceImpl> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<MetricsExporter> metrics_;
  int grpc_port_ = 0;
};

}  // namespace reshard::server
