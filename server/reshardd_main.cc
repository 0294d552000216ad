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
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "server/daemon.h"
#include "server/event_log.h"

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

ABSL_FLAG(std::string, grpc_tls_cert, "",
          "PEM certificate (chain) of the gRPC API: it is served over TLS. With --grpc_tls_key");
ABSL_FLAG(std::string, grpc_tls_key, "", "PEM private key of --grpc_tls_cert");
ABSL_FLAG(std::string, grpc_tls_client_ca, "",
          "PEM CA certificate(s): every gRPC client must present a certificate signed by one "
          "(mutual TLS). Needs --grpc_tls_cert");
ABSL_FLAG(std::string, auth_token_file, "",
          "file holding the API's bearer token (16+ printable characters; readable by its owner "
          "only): every RPC but health must carry 'authorization: Bearer <token>'");
ABSL_FLAG(bool, allow_insecure, false,
          "accept a non-loopback --grpc_listen without TLS or a token, and a non-loopback "
          "--metrics_listen (which has neither); refused otherwise");
ABSL_FLAG(std::string, secrets_key_file, "",
          "file holding a 256-bit key (64 hex digits: openssl rand -hex 32; readable by its owner "
          "only): the jobs' secret files in --state_dir are encrypted with it (AES-256-GCM)");

ABSL_FLAG(std::string, log_format, "text",
          "text: one line per event, 'TIME LEVEL job=ID target=NAME message'; json: one JSON "
          "object per line (time, level, job, target, event, from, to, reason, message)");

namespace {

using reshard::server::LogEventLine;
using reshard::server::LogLevel;

// --help names the file that defines each flag: its name only, never the
// build machine's path.
void ConfigureFlagsUsage() {
  absl::FlagsUsageConfig config;
  config.normalize_filename = [](absl::string_view path) {
    const size_t slash = path.rfind('/');
    return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
  };
  config.contains_help_flags = [](absl::string_view file) { return file == "reshardd_main.cc"; };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [] { return std::string("reshardd " RESHARD_VERSION "\n"); };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace

int main(int argc, char** argv) {
  ConfigureFlagsUsage();
  absl::SetProgramUsageMessage(
      "the reshard service: splits a live Redis into several.\n"
      "usage: reshardd [--grpc_listen=HOST:PORT] [--metrics_listen=HOST:PORT] "
      "[--state_dir=DIR] [--state_fsync=always|everysec|no] [--spool_dir=DIR] "
      "[--log_format=text|json]\n"
      "                [--grpc_tls_cert=PEM --grpc_tls_key=PEM [--grpc_tls_client_ca=PEM]] "
      "[--auth_token_file=FILE]\n"
      "                [--secrets_key_file=FILE] [--allow_insecure]\n"
      "       reshardd --version | --help");
  absl::ParseCommandLine(argc, argv);
  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  if (!reshard::server::LogFormatNamed(log_format)) {
    std::cerr << "reshardd: --log_format: expected text or json, got '" << log_format << "'\n";
    return 2;
  }
  reshard::server::EventLog::Default().SetFormat(*reshard::server::LogFormatNamed(log_format));

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
  options.api.tls_cert_file = absl::GetFlag(FLAGS_grpc_tls_cert);
  options.api.tls_key_file = absl::GetFlag(FLAGS_grpc_tls_key);
  options.api.tls_client_ca_file = absl::GetFlag(FLAGS_grpc_tls_client_ca);
  options.api.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  options.api.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  options.secrets_key_file = absl::GetFlag(FLAGS_secrets_key_file);
  std::optional<reshard::engine::FsyncPolicy> fsync =
      reshard::engine::ParseFsyncPolicy(absl::GetFlag(FLAGS_state_fsync));
  if (!fsync.has_value()) {
    std::cerr << "reshardd: --state_fsync: expected always, everysec or no, got '"
              << absl::GetFlag(FLAGS_state_fsync) << "'\n";
    return 2;
  }
  options.state_fsync = *fsync;
  LogEventLine(LogLevel::kInfo, "daemon", "", "reshardd " RESHARD_VERSION " starting");
  auto daemon = reshard::server::Daemon::Start(options);
  if (!daemon.ok()) {
    LogEventLine(LogLevel::kError, "daemon", "",
                 absl::StrCat("cannot start: ", daemon.status().ToString()));
    return 1;
  }
  std::string grpc_host = options.grpc_listen.substr(0, options.grpc_listen.rfind(':'));
  LogEventLine(LogLevel::kInfo, "daemon", "",
               absl::StrCat("gRPC listening on ", grpc_host, ":", (*daemon)->grpc_port(), " (",
                            (*daemon)->api_security().Describe(), ")"));
  if (!options.metrics_listen.empty()) {
    std::string host = options.metrics_listen.substr(0, options.metrics_listen.rfind(':'));
    LogEventLine(LogLevel::kInfo, "daemon", "",
                 absl::StrCat("metrics listening on http://", host, ":", (*daemon)->metrics_port(),
                              "/metrics"));
  }

  int received = 0;
  sigwait(&signals, &received);
  LogEventLine(LogLevel::kInfo, "daemon", "",
               absl::StrCat(received == SIGINT ? "SIGINT" : "SIGTERM", ", shutting down"));
  (*daemon)->Shutdown();
  LogEventLine(LogLevel::kInfo, "daemon", "", "stopped");
  return 0;
}
