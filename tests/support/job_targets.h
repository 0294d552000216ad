#pragma once

// The target part of a job spec for a job under test.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/job/job_spec.h"
#include "engine/route/key_filter.h"
#include "tests/support/redis_server.h"

namespace reshard::testing {

// Target `name` with `filter`, listening on 127.0.0.1:`listen_port`. With
// `managed`, the job makes that server replicate from its listener (the
// pointer is read here only); with nullptr the test attaches a replica itself.
engine::TargetSpec MakeTarget(std::string name, engine::FilterSpec filter, uint16_t listen_port,
                              const RedisServer* managed);

// A cluster target `name` whose slot map is read from `nodes` ("host:port");
// `filter` empty: every key.
engine::TargetSpec MakeClusterTarget(std::string name, std::vector<std::string> nodes,
                                     engine::FilterSpec filter = {});

}  // namespace reshard::testing
