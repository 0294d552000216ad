#pragma once

// reshardctl's commands over the reshard.v1 gRPC API (the command line is
// client/cli/ctl_args.h), as a function of its arguments and output streams
// so that tests can run it without a process.
//
// Errors go to `err` as "reshardctl: CODE: message" (the server's message);
// exit codes are client/cli/exit_code.h's.

#include <ostream>
#include <string>
#include <vector>

namespace reshard::client {

// Runs one reshardctl invocation. `args` excludes the program name; global
// options may come before or after the command. `redraw`: watch redraws the
// screen (stdout is a terminal). Returns an exit code.
int RunCtl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           bool redraw = false);

}  // namespace reshard::client
