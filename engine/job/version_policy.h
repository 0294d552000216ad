#pragma once

// What the job decides from server versions: whether a target can load the
// source's snapshot, and which command forms a target accepts.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "engine/rdb/rdb_version.h"

namespace reshard::engine {

// Whether a server of `target` loads an RDB of `rdb_version`. Valkey 9's
// VALKEY080 (80) is a format of its own; RDB numbers compare otherwise (a
// loader refuses versions newer than its own).
bool CanLoadRdb(const ServerVersion& target, int rdb_version);

// OK, or FAILED_PRECONDITION naming the target, both versions and the fix.
// `source` is the source's version when known.
absl::Status CheckTargetCanLoad(const std::string& target_name, const ServerVersion& target,
                                const std::optional<ServerVersion>& source, int rdb_version);

// SET ... PXAT came with Redis 6.2 (every Valkey has it).
bool AcceptsSetPxat(const ServerVersion& target);

}  // namespace reshard::engine
