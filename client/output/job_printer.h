#pragma once

// The human and JSON forms of reshard.v1 jobs, as `get`, `list`, `watch` and
// the job actions print them.

#include <optional>
#include <ostream>
#include <string>

#include "client/output/output_format.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// The human form of one job (what `get` prints): state, error, detail, source,
// lag behind the source, upstream ACK, RDB progress (by bytes when the RDB's
// size is known, else by keys against the source's key count when that is
// known, else a key count; "done" once the job streams), a table of targets
// and, for each target that is not STREAMING, the reason. The table has
// TARGET, STATE, REPLICAS, KEYS KEPT, SENT, LAG, SPOOL, RESYNCS; `wide` adds
// FILTER, LISTEN, KEYS DROPPED, CMDS KEPT/DROPPED, SPLIT, MATERIALIZED, LAG S
// and SOURCE ACKED.
void PrintJob(const v1::Job& job, bool wide, std::ostream& out);

// What `watch` measures between frames; nullopt until it can tell.
struct WatchRates {
  std::optional<double> rdb_bytes_per_second;
  std::optional<double> rdb_keys_per_second;
  std::optional<double> received_bytes_per_second;  // from the source, RDB + stream
};
// A `watch` frame: the same figures, one line per target, with the rate read
// from the source and, during the snapshot, its rate and ETA (by bytes when
// the RDB's size is known, by keys when the source's key count is).
void PrintJobCompact(const v1::Job& job, const WatchRates& rates, std::ostream& out);
// PrintJob (kWide: wide), or for kJson the indented protobuf JSON mapping and
// a newline.
void PrintJobAs(const v1::Job& job, OutputFormat format, std::ostream& out);
// The `list` table: id, state, source, number of targets, detail or error;
// `wide` adds the lag behind the source, the upstream link and each target's
// state ("a=STREAMING,b=SPOOLING").
void PrintJobTable(const v1::ListJobsResponse& jobs, bool wide, std::ostream& out);

// "STREAMING", "FAILED", ...
std::string StateName(const v1::JobStatus& status);

}  // namespace reshard::client
