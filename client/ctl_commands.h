#pragma once

// reshardctl's commands over the reshard.v1 gRPC API, as functions of their
// arguments and output streams so that tests can run them without a process.
//
//   reshardctl [--server ADDR] [-o json|table] COMMAND
//     create -f SPEC.json [--id ID]   list   get JOB   watch JOB
//     pause JOB   resume JOB   cancel JOB   delete JOB
//
// Errors go to `err` as "reshardctl: CODE: message" (the server's message).

#include <ostream>
#include <string>
#include <vector>

#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the server refused, is unreachable, or the job failed
inline constexpr int kExitUsage = 2;

enum class OutputFormat { kTable, kJson };

struct CtlOptions {
  std::string server = "127.0.0.1:50051";
  OutputFormat output = OutputFormat::kTable;
  // watch: clear the screen before each frame (for a terminal) instead of
  // printing frames one after another.
  bool redraw = false;
  int rpc_timeout_ms = 10000;
};

// Runs one reshardctl invocation. `args` excludes the program name; global
// options may come before or after the command. Returns an exit code.
int RunCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           bool redraw = false);

// The human form of one job (what `get` and each `watch` frame print).
void PrintJob(const v1::Job& job, std::ostream& out);
// The `list` table.
void PrintJobTable(const v1::ListJobsResponse& jobs, std::ostream& out);
// "[#####-----]  50%"; `total` 0 gives an indeterminate bar.
std::string ProgressBar(uint64_t done, uint64_t total, int width);

}  // namespace reshard::client
