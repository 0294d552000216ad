#pragma once

// `reshardctl watch JOB`: follows a job through WatchJob until it streams or
// ends.

#include <ostream>
#include <string>

#include "client/cli/ctl_args.h"
#include "client/rpc/server_connection.h"

namespace reshard::client {

// Prints each state of job `id` as it comes: one JSON line per update for
// kJson; for a table, one screen redrawn in place per update on a terminal
// (options.redraw: ScreenRedraw, cut to the terminal's size) or plain frames
// otherwise, one per state change and at most one per second (the final
// state is always printed). No deadline: a watch lasts as long as it must.
// Frames are PrintJobCompact's, with the rates the watch measures over the
// last 10 s (bytes read from the source; the snapshot's bytes or keys, and
// its ETA).
// Returns kExitOk once the job is STREAMING or DONE (a DEGRADED job is
// watched on, and so is one in CUTOVER);
// kExitError (the reason on `err`) when it FAILED or was CANCELLED, the stream
// ended first, or the call failed.
int WatchJob(const std::string& id, const CtlOptions& options, ServerConnection& server,
             std::ostream& out, std::ostream& err);

}  // namespace reshard::client
