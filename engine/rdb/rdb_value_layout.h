#pragma once

// How each RDB value type is laid out, as far as stepping over it needs:
// the reader passes values through as raw bytes, so it only has to find
// where each one ends (element counts, strings, fixed fields), never to
// decode what it holds.

#include <cstdint>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/rdb/rdb_cursor.h"
#include "engine/rdb/rdb_format.h"

namespace reshard::engine {

// Moves `cursor` past the value of an entry of type `type` (a known type: see
// rdb::IsKnownType), its bytes going to the cursor's mode. DATA_LOSS for an
// unknown type, for type 6 (a pre-GA module value cannot be skipped without
// its module) and for corrupt input; or the cursor's refill error.
asio::awaitable<absl::Status> SkipRdbValue(RdbCursor& cursor, uint8_t type,
                                           rdb::RdbFlavour flavour);

// Moves `cursor` past a module value body: module opcodes up to and including
// rdb::kModuleOpEof (MODULE_2 values, MODULE_AUX and KEY_META records).
asio::awaitable<absl::Status> SkipRdbModuleValue(RdbCursor& cursor);

}  // namespace reshard::engine
