#include "server/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "server/event_log.h"
#include "server/private_files.h"
#include "server/secret_box.h"

namespace reshard::server {
namespace {

// Refuses an unprotected non-loopback listener (unless --allow_insecure).
absl::Status CheckListenAddresses(const DaemonOptions& options, const ApiSecurity& security) {
  RETURN_IF_ERROR(CheckListenAddress(
      "--grpc_listen", options.grpc_listen, security.tls || security.token.has_value(),
      security.allow_insecure,
      "anyone who reaches it could create jobs and make reshardd send REPLICAOF and CONFIG SET "
      "to any Redis it can reach",
      "Give --grpc_tls_cert/--grpc_tls_key (and --grpc_tls_client_ca), --auth_token_file, or "
      "both"));
  if (options.metrics_listen.empty()) return absl::OkStatus();
  return CheckListenAddress("--metrics_listen", options.metrics_listen, /*is_protected=*/false,
                            security.allow_insecure,
                            "/metrics has neither TLS nor a token, and anyone who reaches it "
                            "reads every job's metrics",
                            "Scrape it through a proxy that adds TLS and authentication");
}

// Serves the reflection service on one ServerBuilder, exactly once, or not at
// all. Linking grpc++_reflection registers its plugin for every server of the
// process (a static initializer), so it is taken out here and added back
// only when `serve`.
class ReflectionOption : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool serve) : serve_(serve) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    const std::string name = grpc::reflection::ProtoServerReflectionPlugin().name();
    std::erase_if(*plugins, [&](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
      return plugin->name() == name;
    });
    if (serve_)
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

 private:
  const bool serve_;
};

// --state_dir: created 0700, or an existing one tightened to 0700.
absl::Status PrepareStateDir(const std::string& dir) {
  ASSIGN_OR_RETURN(PrivateDirChange change, MakePrivateDir(dir, "--state_dir"));
  if (change.kind == PrivateDirChange::kTightened) {
    LogEventLine(LogLevel::kWarning, "state_dir_mode", "",
                 absl::StrCat("--state_dir ", dir, " had mode ", ModeText(change.old_mode),
                              "; set to 0700 (it holds the jobs' secret files)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const DaemonOptions& options) {
  std::unique_ptr<Daemon> daemon(new Daemon());
  ASSIGN_OR_RETURN(daemon->api_security_, LoadApiSecurity(options.api));
  RETURN_IF_ERROR(CheckListenAddresses(options, daemon->api_security_));
  std::optional<SecretBox> secrets_box;
  if (!options.secrets_key_file.empty()) {
    ASSIGN_OR_RETURN(SecretBox box, SecretBox::FromKeyFile(options.secrets_key_file));
    secrets_box = std::move(box);
  }
  std::unique_ptr<JobStore> store;
  if (!options.state_dir.empty()) {
    RETURN_IF_ERROR(PrepareStateDir(options.state_dir));
    ASSIGN_OR_RETURN(daemon->lock_, StateDirLock::Acquire(options.state_dir));
    store = std::make_unique<JobStore>(options.state_dir, std::move(secrets_box));
  }
  std::string spool_dir = options.spool_dir;
  if (spool_dir.empty() && !options.state_dir.empty()) {
    spool_dir = (std::filesystem::path(options.state_dir) / "spool").string();
  }
  daemon->manager_ = std::make_unique<JobManager>(std::move(store), spool_dir, options.state_fsync);
  RETURN_IF_ERROR(daemon->manager_->Restore());

  const ApiSecurity& security = daemon->api_security_;
  daemon->service_ = std::make_unique<JobServiceImpl>(
      daemon->manager_.get(), security.token.has_value() ? &*security.token : nullptr);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // Reflection answers without a token: served only when none is required.
  builder.SetOption(std::make_unique<ReflectionOption>(!security.token.has_value()));
  // gRPC sets SO_REUSEPORT by default: a second reshardd on the same port
  // would then start "successfully" and share the port. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.grpc_listen, security.credentials, &daemon->grpc_port_);
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
