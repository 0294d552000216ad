#pragma once

// The logical value of a key, for when DUMP payloads differ although the
// data may be equal: hash tables (sets, hashes) serialise in dict order; a
// server may hold a small collection in another encoding; a replica stamps
// stream consumers with its own clock; servers of different versions write
// different formats. Sets and hashes are sorted; lists, sorted sets and
// strings keep their order; a stream is XINFO STREAM FULL without what a
// replica sets from its own clock or memory layout (consumers' seen and
// active times, PEL delivery times, radix-tree sizes); a hash's field
// expiries (Redis >= 7.4, Valkey >= 9) are compared apart, with a tolerance.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "asio/awaitable.hpp"
#include "engine/job/key_comparison.h"
#include "engine/link/redis_connection.h"
#include "engine/resp/resp_reply.h"

namespace reshard::engine {

struct LogicalValue {
  std::string type;       // TYPE's answer: "string", "hash", ...
  std::string canonical;  // the value in a canonical text, expiries left out
  // Hash fields that have an expiry: field -> absolute unix ms.
  std::map<std::string, int64_t> field_expiry;
};

// The canonical text of a value of `type` from the replies to the commands
// LogicalCommands gave for it.
std::string CanonicalValue(std::string_view type, std::vector<RespValue> replies);

// The commands that read a value of `type` ("string", "list", ...); a
// module type's DUMP payload is all there is.
std::vector<std::vector<std::string>> LogicalCommands(std::string_view type,
                                                      const std::string& key);

// TYPE, then the commands of its type, on `connection` (already SELECTed to
// the key's db); with `field_expiry`, a hash's HPEXPIRETIME too. nullopt
// when the key does not exist; FAILED_PRECONDITION naming the peer for an
// error reply. With `asking`, each command goes behind an ASKING (the key
// of a slot the cluster node is importing, where an ASK sent the reader).
asio::awaitable<absl::StatusOr<std::optional<LogicalValue>>> ReadLogicalValue(
    RedisConnection& connection, const std::string& key, bool field_expiry, bool asking = false);

// nullopt when equal; else the difference: DIFFERENT_VALUE when the
// canonical values differ, DIFFERENT_TTL when only a field's expiry does
// ("field 'f' ttl: source none, target 60000 ms").
std::optional<KeyDifference> CompareLogical(const LogicalValue& source, const LogicalValue& target,
                                            int64_t tolerance_ms, int64_t now_ms);

}  // namespace reshard::engine
