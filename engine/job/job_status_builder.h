#pragma once

// Builds the job's published status from what its stages count: the
// upstream link, the RDB splitter, the command router and each target master.

#include <cstdint>

#include "engine/job/job_context.h"
#include "engine/job/job_status.h"

namespace reshard::engine {

// The status of `job` now. `previous_rdb_bytes_read` is the last published
// figure, kept when the snapshot's progress is no longer live (a sync that
// failed part-way). `version` and `error` are left for the caller.
JobStatus BuildJobStatus(const JobContext& job, uint64_t previous_rdb_bytes_read,
                         int64_t created_unix_ms);

}  // namespace reshard::engine
