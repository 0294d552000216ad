#pragma once

// RebuildValueCommands: the commands that rebuild one RDB value in parts,
// for a value too big for one RESTORE (its DUMP payload over the target's
// proto-max-bulk-len). The first command replaces whatever the key held
// (SET, or DEL before a collection), then the elements follow in commands
// of at most `max_command_bytes` of arguments each: a string as SET + APPEND,
// a list as RPUSH (plain, quicklist of ziplists or of listpacks), a set as
// SADD, a hash as HSET, a sorted set as ZADD (exact scores). Other encodings
// (compact ones are small by design; streams, modules, hashes with field
// expiries) are FAILED_PRECONDITION naming the key and the type; corrupt
// bytes are DATA_LOSS. Pure: no state, no I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reshard::engine {

using RebuildCommands = std::vector<std::vector<std::string>>;

// `value` is the entry's value bytes (after its type byte).
absl::StatusOr<RebuildCommands> RebuildValueCommands(std::string_view key, uint8_t type,
                                                     std::string value, size_t max_command_bytes);

// Whether RebuildValueCommands can rebuild a value of `type`.
bool CanRebuildInParts(uint8_t type);

}  // namespace reshard::engine
