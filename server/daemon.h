#pragma once

// Daemon: everything reshardd runs, in one object so that tests can start it
// in-process: the JobManager (restored from --state_dir), the gRPC server
// (JobService, health, reflection) and the /metrics exporter.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
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
};

class Daemon {
 public:
  // Locks the state dir (FAILED_PRECONDITION naming the PID of another
  // reshardd that holds it), restores persisted jobs, then starts serving.
  // UNAVAILABLE when an address cannot be bound.
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

 private:
  Daemon() = default;

  std::unique_ptr<StateDirLock> lock_;  // released last
  std::unique_ptr<JobManager> manager_;
  std::unique_ptr<JobServiceImpl> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<MetricsExporter> metrics_;
  int grpc_port_ = 0;
};

}  // namespace reshard::server
