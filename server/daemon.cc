#include "server/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"

namespace reshard::server {

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const DaemonOptions& options) {
  std::unique_ptr<Daemon> daemon(new Daemon());
  std::unique_ptr<JobStore> store;
  if (!options.state_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.state_dir, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("--state_dir: cannot create ", options.state_dir, ": ", error.message()));
    }
    ASSIGN_OR_RETURN(daemon->lock_, StateDirLock::Acquire(options.state_dir));
    store = std::make_unique<JobStore>(options.state_dir);
  }
  std::string spool_dir = options.spool_dir;
  if (spool_dir.empty() && !options.state_dir.empty()) {
    spool_dir = (std::filesystem::path(options.state_dir) / "spool").string();
  }
  daemon->manager_ = std::make_unique<JobManager>(std::move(store), spool_dir, options.state_fsync);
  RETURN_IF_ERROR(daemon->manager_->Restore());

  daemon->service_ = std::make_unique<JobServiceImpl>(daemon->manager_.get());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second reshardd on the same port
  // would then start "successfully" and share the port. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.grpc_listen, grpc::InsecureServerCredentials(),
                           &daemon->grpc_port_);
  builder.RegisterService(daemon->service_.get());
  daemon->grpc_server_ = builder.BuildAndStart();
  if (daemon->grpc_server_ == nullptr || daemon->grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("gRPC: cannot listen on ", options.grpc_listen));
  }
  if (!options.metrics_listen.empty()) {
    ASSIGN_OR_RETURN(daemon->metrics_,
                     MetricsExporter::Start(options.metrics_listen, daemon->manager_.get()));
  }
  return daemon;
}

Daemon::~Daemon() { Shutdown(); }

void Daemon::Shutdown() {
  // The manager first: its shutdown flag ends WatchJob streams, which
  // grpc::Server::Shutdown would otherwise wait for.
  if (manager_) manager_->Shutdown();
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc_server_->Wait();
    grpc_server_.reset();
  }
  metrics_.reset();
}

}  // namespace reshard::server
