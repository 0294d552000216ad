#pragma once

// The human and JSON forms of reshard.v1 jobs, as `get`, `list`, `watch` and
// the job actions print them.

#include <ostream>
#include <string>

#include "client/output/output_format.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// The human form of one job (what `get` and each `watch` frame print): state,
// error, source, RDB progress and a table of targets.
void PrintJob(const v1::Job& job, std::ostream& out);
// PrintJob, or for kJson the indented protobuf JSON mapping and a newline.
void PrintJobAs(const v1::Job& job, OutputFormat format, std::ostream& out);
// The `list` table: id, state, source, number of targets, detail or error.
void PrintJobTable(const v1::ListJobsResponse& jobs, std::ostream& out);

// "STREAMING", "FAILED", ...
std::string StateName(const v1::JobStatus& status);

}  // namespace reshard::client
