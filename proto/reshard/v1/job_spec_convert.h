#pragma once

// JobSpec conversions between the reshard.v1 API messages and the engine's
// types, once for reshardd and reshardctl. The proto side is what clients send
// and see; the engine side is what a Job (or `reshardctl rdb split`) runs.
// Passwords flow only inward: nothing here puts a password into a proto.
//
// Errors are INVALID_ARGUMENT naming the API field ("targets[0].filter: ...").

#include <string_view>

#include "absl/status/statusor.h"
#include "engine/job/job_spec.h"
#include "engine/route/key_filter.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::api {

// The filter kind that is set. `field` names the filter in errors:
// "<field>: required: set one of regex, prefix, glob, slots" when none is.
// Does not compile the pattern (engine::MakeKeyFilter does).
absl::StatusOr<engine::FilterSpec> FilterFromProto(const v1::Filter& filter,
                                                   std::string_view field);
v1::Filter FilterToProto(const engine::FilterSpec& filter);

// Address, username and password.
engine::Endpoint EndpointFromProto(const v1::Endpoint& proto);
// A set ClientTls: TLS on, with its files and name.
engine::TlsClientOptions ClientTlsFromProto(const v1::ClientTls& proto);
v1::ClientTls ClientTlsToProto(const engine::TlsClientOptions& tls);
// Address and username; never the password.
v1::Endpoint EndpointToProto(const engine::Endpoint& endpoint);

// Engine defaults for every option that is 0 (unset) in the proto.
// "options.<name>: must not be negative, got N" for a negative one.
absl::StatusOr<engine::JobOptions> OptionsFromProto(const v1::JobOptions& proto);
// Every option as its effective value.
v1::JobOptions OptionsToProto(const engine::JobOptions& options);

// Converts the shape of a spec. INVALID_ARGUMENT naming the field for what the
// proto allows but a job cannot have: a target without a filter
// ("targets[0].filter: required: ..."), a replica without an address, negative
// options. Does not call engine::ValidateJobSpec.
absl::StatusOr<engine::JobSpec> SpecFromProto(const v1::JobSpec& proto);

// SpecFromProto, then engine::ValidateJobSpec with its field names mapped to
// the API's ("targets[0].credentials.password" -> "targets[0].password"): what
// CreateJob accepts. Managed targets without a password get a generated one
// (engine::GenerateReplicationPasswords), kept with the job's secrets.
absl::StatusOr<engine::JobSpec> ValidSpecFromProto(const v1::JobSpec& proto);

// The spec as clients see it: every password empty, options as effective
// values (engine defaults filled in).
v1::JobSpec SpecToProto(const engine::JobSpec& spec);

// Clears every password field of `spec` in place.
void ClearPasswords(v1::JobSpec* spec);

}  // namespace reshard::api
