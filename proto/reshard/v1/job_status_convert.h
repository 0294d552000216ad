#pragma once

// JobStatus conversions between the reshard.v1 API messages and the engine's
// types: what GetJob/WatchJob return and what the job store keeps.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/job/verify_report.h"
#include "google/protobuf/timestamp.pb.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::api {

v1::JobStatus::State StateToProto(engine::JobState state);
v1::TargetStatus::State TargetStateToProto(engine::TargetState state);
// Inverse of StateToProto; INVALID_ARGUMENT for STATE_UNSPECIFIED.
absl::StatusOr<engine::JobState> StateFromProto(v1::JobStatus::State state);

// A job's error as the API shows it: the code's name ("UNAVAILABLE") and the
// message; an empty JobError for OK.
v1::JobError ErrorToProto(const absl::Status& error);
// Inverse of ErrorToProto. An empty code is OK; a code name that is not an
// absl code gives UNKNOWN with the message.
absl::Status ErrorFromProto(const v1::JobError& error);

// Milliseconds since the epoch; times before 1970 keep nanos in [0, 1e9).
google::protobuf::Timestamp TimestampFromUnixMillis(int64_t unix_ms);
int64_t UnixMillisFromTimestamp(const google::protobuf::Timestamp& time);

// Every field of the status; times only when set (non-zero).
v1::JobStatus StatusToProto(const engine::JobStatus& status);

// The API form of a job: SpecToProto (no passwords) and StatusToProto, the
// last cutover (status.cutover) and the last verification when there are.
v1::Job JobToProto(const std::string& id, const engine::JobSpec& spec,
                   const engine::JobStatus& status,
                   const engine::VerifyReport* last_verification = nullptr);

}  // namespace reshard::api
