#pragma once

// Verification conversions between the reshard.v1 API and the engine:
// VerifyJobRequest -> engine::VerifyOptions, engine::VerifyReport <->
// VerifyReport (the job store reads it back).

#include <string>

#include "absl/status/statusor.h"
#include "engine/job/job_spec.h"
#include "engine/job/verify_report.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::api {

// Defaults for zero fields (sample 1, rate 10000, 20 problems, 2000 ms);
// a negative rate is unlimited. target_addresses are resolved against the
// spec's target names, with target_tls (else a managed target's own TLS).
// INVALID_ARGUMENT naming the field ("sample_fraction: ...",
// "target_addresses['x']: no such target", "target_tls['x']: no target_addresses['x'] ...").
absl::StatusOr<engine::VerifyOptions> VerifyOptionsFromProto(const v1::VerifyJobRequest& request,
                                                             const engine::JobSpec& spec);

v1::VerifyProblem::Kind ProblemKindToProto(engine::VerifyProblemKind kind);

// `spec` gives the target names (VerifyReport.target_names).
v1::VerifyReport VerifyReportToProto(const std::string& job_id, const engine::JobSpec& spec,
                                     const engine::VerifyReport& report);
// Inverse of VerifyReportToProto (target_names and job_id are the job's).
engine::VerifyReport VerifyReportFromProto(const v1::VerifyReport& proto);

}  // namespace reshard::api
