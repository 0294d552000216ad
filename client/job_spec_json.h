#pragma once

// The JSON forms of the reshard.v1 messages: the protobuf JSON mapping, with
// parse errors rewritten to name the field the way the server does
// ("targets[0].filter.fuzzy: unknown field; a filter is one of regex, prefix,
// glob, slots").

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// Parses a JobSpec. INVALID_ARGUMENT naming the field for unknown fields,
// values of the wrong type, two filter kinds in one filter, bad JSON.
absl::StatusOr<v1::JobSpec> ParseJobSpecJson(std::string_view json);

// The protobuf JSON mapping of `message` with the .proto field names and every
// field printed (zero counters too). `multi_line`: indented; else one line.
std::string MessageToJson(const google::protobuf::Message& message, bool multi_line);

}  // namespace reshard::client
