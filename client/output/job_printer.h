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
// lag behind the source, upstream ACK, RDB progress (by keys against the
// source's key count when the RDB size is unknown), a table of targets and,
// for each target that is not STREAMING, the reason.
void PrintJob(const v1::Job& job, std::ostream& out);
// A `watch` frame: the same figures, one line per target. `keys_per_second`
// (the watch measures it) adds a rate and an ETA to a diskless snapshot's
// key progress.
void PrintJobCompact(const v1::Job& job, std::optional<double> keys_per_second, std::ostream& out);
// PrintJob, or for kJson the indented protobuf JSON mapping and a newline.
void PrintJobAs(const v1::Job& job, OutputFormat format, std::ostream& out);
// The `list` table: id, state, source, number of targets, detail or error.
void PrintJobTable(const v1::ListJobsResponse& jobs, std::ostream& out);

// "STREAMING", "FAILED", ...
std::string StateName(const v1::JobStatus& status);

}  // namespace reshard::client
