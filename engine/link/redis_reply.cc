#include "engine/link/redis_reply.h"

#include "absl/strings/str_cat.h"

namespace reshard::engine {

absl::Status UnexpectedReply(const RedisConnection& connection, std::string_view what,
                             const RespValue& reply) {
  return absl::FailedPreconditionError(
      absl::StrCat(connection.peer(), ": ", absl::string_view(what.data(), what.size()), ": ",
                   reply.IsError() ? reply.str : "unexpected reply " + reply.ToString()));
}

absl::StatusOr<std::pair<std::string, std::vector<std::string>>> ParseScanReply(
    const RedisConnection& connection, RespValue reply) {
  if (reply.type != RespValue::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[1].type != RespValue::Type::kArray) {
    return UnexpectedReply(connection, "SCAN", reply);
  }
  std::vector<std::string> keys;
  keys.reserve(reply.elements[1].elements.size());
  for (RespValue& key : reply.elements[1].elements) keys.push_back(std::move(key.str));
  return std::make_pair(std::move(reply.elements[0].str), std::move(keys));
}

}  // namespace reshard::engine
