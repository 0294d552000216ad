#pragma once

// `reshardctl watch JOB`: follows a job through WatchJob until it streams or
// ends.

#include <ostream>
#include <string>

#include "client/cli/ctl_args.h"
#include "client/rpc/server_connection.h"

namespace reshard::client {

// Prints each state of job `id` as it comes: one JSON line per update for
// kJson; for a table, a redrawn screen per update (options.redraw) or a frame
// per state change and at most one per second otherwise (the final state is
// always printed). No deadline: a watch lasts as long as it must.
// Tables are PrintJobCompact frames, with the key rate of a diskless snapshot.
// Returns kExitOk once the job is STREAMING or DONE (a DEGRADED job is
// watched on, and so is one in CUTOVER);
// kExitError (the reason on `err`) when it FAILED or was CANCELLED, the stream
// ended first, or the call failed.
int WatchJob(const std::string& id, const CtlOptions& options, ServerConnection& server,
             std::ostream& out, std::ostream& err);

}  // namespace reshard::client
