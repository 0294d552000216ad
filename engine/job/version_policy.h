#pragma once

// What the job decides from server versions: whether a target can load the
// source's snapshot, and which command forms a target accepts.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/rdb/rdb_version.h"

namespace reshard::engine {

// Whether a server of `target` loads an RDB of `rdb_version`. Valkey 9's
// VALKEY080 (80) is a format of its own; Valkey refuses Redis 7.4+'s RDB 12
// and later (it calls 12-79 foreign); RDB numbers compare otherwise (a
// loader refuses versions newer than its own).
bool CanLoadRdb(const ServerVersion& target, int rdb_version);

// OK, or FAILED_PRECONDITION naming the target, both versions and the fix.
// `source` is the source's version when known.
absl::Status CheckTargetCanLoad(const std::string& target_name, const ServerVersion& target,
                                const std::optional<ServerVersion>& source, int rdb_version);

// The RDB version a source of `source` sends a replica, when its release
// alone decides it; nullopt for Valkey >= 9, which picks it from the
// replica's announced version (see VersionToAnnounce).
std::optional<int> RdbVersionSentBy(const ServerVersion& source);

// SET ... PXAT came with Redis 6.2 (every Valkey has it).
bool AcceptsSetPxat(const ServerVersion& target);

// The version a replica announced with REPLCONF version <x.y.z>. Only Valkey
// replicas announce one; nullopt when `announced` is empty or malformed.
std::optional<ServerVersion> ServerVersionFromReplconf(std::string_view announced);

// What reshardd announces to the source with REPLCONF version before PSYNC:
// a Valkey >= 9 primary picks the RDB version it sends from it (VALKEY080 for
// 9.x, which can hold hash-field TTLs; RDB 11 when nothing is announced). The
// newest release whose format reshardd reads, lowered to the oldest target's
// when every target is a known Valkey >= 9; nullopt (announce nothing) when
// any target is not, since only Valkey 9 loads VALKEY080.
std::optional<std::string> VersionToAnnounce(
    const std::vector<std::optional<ServerVersion>>& targets);

}  // namespace reshard::engine
