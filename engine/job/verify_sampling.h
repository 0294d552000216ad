#pragma once

// Helpers of the verifier (engine/job/key_verifier.h) that need no network:
// the deterministic key sample and INFO keyspace per db.

#include <cstdint>
#include <map>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::engine {

// True when `key` is in the sample: its 64-bit FNV-1a hash, scaled to [0, 1),
// is below `fraction`. The same keys are chosen on every run and machine.
// fraction >= 1 chooses every key, <= 0 none.
bool KeyInSample(std::string_view key, double fraction);

// The key count of every "dbN:keys=K,..." line of an INFO keyspace reply,
// by db number. INVALID_ARGUMENT naming the line when it is malformed.
absl::StatusOr<std::map<int, uint64_t>> ParseKeyspaceDbs(std::string_view info);

}  // namespace reshard::engine
