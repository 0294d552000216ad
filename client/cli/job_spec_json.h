#pragma once

// Reading a SPEC.json (`reshardctl create -f`, `reshardctl rdb split -f`):
// the protobuf JSON mapping of reshard.v1.JobSpec, with parse errors rewritten
// to name the field the way the server does ("targets[0].filter.fuzzy:
// unknown field; a filter is one of regex, prefix, glob, slots").

#include <string_view>

#include "absl/status/statusor.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// Parses a JobSpec. INVALID_ARGUMENT naming the field for unknown fields,
// values of the wrong type, two filter kinds in one filter, bad JSON.
absl::StatusOr<v1::JobSpec> ParseJobSpecJson(std::string_view json);

}  // namespace reshard::client
