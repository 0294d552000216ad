#pragma once

// Conversions between the reshard.v1 API messages and the engine's types.
// The proto side is what clients send and see; the engine side is what a Job
// runs. Passwords flow only inward: nothing here puts a password into a proto.

#include "absl/status/statusor.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::server {

// Converts the shape of a spec. INVALID_ARGUMENT naming the field for what the
// proto allows but a job cannot have: a target without a filter
// ("targets[0].filter: required: ..."), a replica without an address, negative
// options. Does not call engine::ValidateJobSpec.
absl::StatusOr<engine::JobSpec> SpecFromProto(const v1::JobSpec& proto);

// SpecFromProto, then engine::ValidateJobSpec: what CreateJob accepts.
absl::StatusOr<engine::JobSpec> ValidSpecFromProto(const v1::JobSpec& proto);

// The spec as clients see it: every password empty, options as effective
// values (engine defaults filled in).
v1::JobSpec SpecToProto(const engine::JobSpec& spec);

v1::JobStatus::State StateToProto(engine::JobState state);
// Inverse of StateToProto; INVALID_ARGUMENT for STATE_UNSPECIFIED.
absl::StatusOr<engine::JobState> StateFromProto(v1::JobStatus::State state);

v1::JobStatus StatusToProto(const engine::JobStatus& status);

// The API form of a job: SpecToProto (no passwords) and StatusToProto.
v1::Job JobToProto(const std::string& id, const engine::JobSpec& spec,
                   const engine::JobStatus& status);

// Clears every password field of `spec` in place.
void ClearPasswords(v1::JobSpec* spec);

}  // namespace reshard::server
