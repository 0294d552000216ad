#pragma once

// The command line of reshardctl's RPC commands:
//
//   reshardctl [--server ADDR] [-o table|wide|json] [TLS and token options] COMMAND
//     create -f SPEC.json [--id ID]   list   get JOB   watch JOB
//     pause JOB   resume JOB   cancel JOB   delete JOB
//     help [COMMAND]   completion bash|zsh   version (--version)
//     verify JOB [--full | --sample FRACTION] [--rate KEYS_PER_S] [--target NAME=HOST:PORT ...]
//                [--target_tls] [--target_tls_ca PEM] [--target_tls_cert PEM --target_tls_key PEM]
//                [--target_tls_server_name NAME]
//     cutover JOB [--max-write-pause DURATION] [--promote] [--leave-source-paused]
//     set-source JOB HOST:PORT
//
// Options may come before or after the command, as `--name VALUE` or
// `--name=VALUE`. The commands and their help are listed in
// client/cli/ctl_help.cc.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/output/output_format.h"

namespace reshard::client {

// What `reshardctl -h` prints, and what follows a usage error: the commands
// of client/cli/ctl_help.h, the defaults and the exit codes.
std::string CtlUsage();

struct CtlOptions {
  std::string server = "127.0.0.1:50051";
  OutputFormat output = OutputFormat::kTable;
  // watch: clear the screen before each frame (for a terminal) instead of
  // printing frames one after another.
  bool redraw = false;
  int rpc_timeout_ms = 10000;
  // TLS to reshardd, on when `tls` or any file below is given: the CA that
  // signed reshardd's certificate (empty: the system's roots), reshardctl's
  // own certificate and key (for reshardd's --grpc_tls_client_ca), and the
  // name reshardd's certificate must carry (empty: the host of `server`).
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_server_name;
  // The file with reshardd's bearer token; empty: $RESHARD_TOKEN, if set.
  std::string token_file;
};

// One parsed command line.
struct CtlInvocation {
  CtlOptions options;
  // "help" for -h / --help alone, "version" for --version; `COMMAND --help`
  // is "help" with COMMAND as positional.
  std::string command;
  std::vector<std::string> positional;  // after the command
  std::string spec_file;                // create -f
  std::string job_id;                   // create --id
  // verify: --full, --sample (0, 1], --rate (keys/s; 0 = unlimited),
  // --target NAME=HOST:PORT (repeatable).
  bool full = false;
  std::optional<double> sample;
  std::optional<double> rate;
  std::vector<std::pair<std::string, std::string>> target_addresses;
  // --target_tls, --target_tls_ca/_cert/_key/_server_name: TLS to every
  // --target (enabled when any is given).
  struct TargetTls {
    bool enabled = false;
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string server_name;
  } target_tls;
  // cutover: 0 max_write_pause_ms is the server's default (2 s).
  int64_t max_write_pause_ms = 0;
  bool promote = false;
  bool leave_source_paused = false;
};

// INVALID_ARGUMENT with the text to show for a usage error ("unknown option
// -x", "no command given", "-o: expected table, wide or json, got 'x'", ...).
absl::StatusOr<CtlInvocation> ParseCtlArgs(const std::vector<std::string>& args);

}  // namespace reshard::client
