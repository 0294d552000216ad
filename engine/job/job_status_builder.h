#pragma once

// Builds the job's published status from what its stages count: the
// upstream link, the RDB splitter, the command router and each target master.

#include <cstdint>

#include "engine/job/job_context.h"
#include "engine/job/job_status.h"

namespace reshard::engine {

// The status of `job` now. `previous` is the last published status: values
// that are no longer live (RDB bytes read once the snapshot is done, the
// error) are carried from it. `version` and `error` are left for the caller.
JobStatus BuildJobStatus(const JobContext& job, const JobStatus& previous, int64_t created_unix_ms);

}  // namespace reshard::engine
