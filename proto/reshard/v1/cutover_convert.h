#pragma once

// Cutover conversions between the reshard.v1 API and the engine:
// CutoverJobRequest -> engine::CutoverOptions, engine::CutoverReport <->
// CutoverReport (the job store reads it back).

#include "absl/status/statusor.h"
#include "engine/job/cutover_report.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::api {

// Defaults for zero fields (2 s pause, 1 MiB lag, 60 s lag wait).
// INVALID_ARGUMENT naming a negative field ("max_write_pause_ms: ...").
absl::StatusOr<engine::CutoverOptions> CutoverOptionsFromProto(
    const v1::CutoverJobRequest& request);

v1::CutoverReport CutoverReportToProto(const engine::CutoverReport& report);
engine::CutoverReport CutoverReportFromProto(const v1::CutoverReport& proto);

}  // namespace reshard::api
