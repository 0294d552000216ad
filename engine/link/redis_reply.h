#pragma once

// What a reply on a RedisConnection says, checked once for every reader of
// a server's keys (verification, a cluster target's clear before a resync):
// an error naming the peer, the page of a SCAN.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/link/redis_connection.h"
#include "engine/resp/resp_reply.h"

namespace reshard::engine {

// FAILED_PRECONDITION "<peer>: <what>: <error or unexpected reply>".
absl::Status UnexpectedReply(const RedisConnection& connection, std::string_view what,
                             const RespValue& reply);
// The cursor and keys of a SCAN reply.
absl::StatusOr<std::pair<std::string, std::vector<std::string>>> ParseScanReply(
    const RedisConnection& connection, RespValue reply);

}  // namespace reshard::engine
