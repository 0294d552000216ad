// reshardd: the resharding service. See server/daemon.h for what it runs.

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "server/daemon.h"

ABSL_FLAG(std::string, grpc_listen, "127.0.0.1:50051",
          "host:port of the gRPC API (port 0: pick a free port and print it)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9121",
          "host:port of the Prometheus /metrics endpoint (empty: none)");
ABSL_FLAG(std::string, state_dir, "",
          "directory where jobs are persisted: their specs (passwords in separate 0600 files) "
          "and their durable state (checkpoints, the targets' stream logs), so that a "
          "restarted reshardd continues them with PSYNC on both sides; locked by one reshardd "
          "at a time. Empty: nothing is persisted");
ABSL_FLAG(std::string, state_fsync, "everysec",
          "when the jobs' durable state reaches the disk, as Redis's appendfsync: always, "
          "everysec (a crash of the machine loses about a second: a full resync of a target "
          "then), no. A crash of reshardd itself loses nothing whatever the setting");

ABSL_FLAG(std::string, spool_dir, "",
          "directory for the targets' spool files (stream bytes waiting for a slow or "
          "disconnected target). Empty: <state_dir>/spool with --state_dir, else the "
          "system's temp dir");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "reshardd --grpc_listen=HOST:PORT --metrics_listen=HOST:PORT [--state_dir=DIR] "
      "[--state_fsync=always|everysec|no] [--spool_dir=DIR]");
  absl::ParseCommandLine(argc, argv);

  // Block the shutdown signals before gRPC or civetweb start threads, so that
  // every thread inherits the mask and only sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A target or client closing a socket must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  reshard::server::DaemonOptions options;
  options.grpc_listen = absl::GetFlag(FLAGS_grpc_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  options.spool_dir = absl::GetFlag(FLAGS_spool_dir);
  std::optional<reshard::engine::FsyncPolicy> fsync =
      reshard::engine::ParseFsyncPolicy(absl::GetFlag(FLAGS_state_fsync));
  if (!fsync.has_value()) {
    std::cerr << "reshardd: --state_fsync: must be always, everysec or no, got '"
              << absl::GetFlag(FLAGS_state_fsync) << "'" << std::endl;
    return 1;
  }
  options.state_fsync = *fsync;
  auto daemon = reshard::server::Daemon::Start(options);
  if (!daemon.ok()) {
    std::cerr << "reshardd: " << daemon.status().ToString() << std::endl;
    return 1;
  }
  std::string grpc_host = options.grpc_listen.substr(0, options.grpc_listen.rfind(':'));
  std::cerr << "reshardd: gRPC listening on " << grpc_host << ":" << (*daemon)->grpc_port()
            << std::endl;
  if (!options.metrics_listen.empty()) {
    std::string host = options.metrics_listen.substr(0, options.metrics_listen.rfind(':'));
    std::cerr << "reshardd: metrics listening on http://" << host << ":"
              << (*daemon)->metrics_port() << "/metrics" << std::endl;
  }

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "reshardd: " << (received == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down"
            << std::endl;
  (*daemon)->Shutdown();
  std::cerr << "reshardd: stopped" << std::endl;
  return 0;
}
