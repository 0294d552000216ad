#include "engine/job/verify_logical.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

void AppendField(std::string* out, std::string_view field) {
  absl::StrAppend(out, field.size(), ":", absl::string_view(field.data(), field.size()), ";");
}

// XINFO STREAM FULL fields a replica sets from its own clock or memory.
bool VolatileStreamField(std::string_view name) {
  return name == "radix-tree-keys" || name == "radix-tree-nodes" || name == "seen-time" ||
         name == "active-time";
}

// True for a RESP2 map: an even number of elements, simple or bulk strings
// at the even positions.
bool LooksLikeMap(const RespValue& value) {
  if (value.type == RespValue::Type::kMap) return true;
  if (value.type != RespValue::Type::kArray || value.elements.size() % 2 != 0) return false;
  for (size_t i = 0; i < value.elements.size(); i += 2) {
    RespValue::Type t = value.elements[i].type;
    if (t != RespValue::Type::kBulkString && t != RespValue::Type::kSimpleString) return false;
  }
  return !value.elements.empty();
}

// XINFO STREAM FULL in a canonical text: volatile fields dropped, and the
// delivery time of each PEL entry (a group's: [id, consumer, time, count];
// a consumer's: [id, time, count]).
void AppendStreamInfo(std::string* out, const RespValue& value, std::string_view parent) {
  if (LooksLikeMap(value)) {
    bool consumer = false;
    for (size_t i = 0; i < value.elements.size(); i += 2) {
      if (value.elements[i].str == "seen-time") consumer = true;
    }
    *out += "{";
    for (size_t i = 0; i < value.elements.size(); i += 2) {
      const std::string& name = value.elements[i].str;
      if (VolatileStreamField(name)) continue;
      AppendField(out, name);
      if (name == "pel" && value.elements[i + 1].type == RespValue::Type::kArray) {
        size_t time_at = consumer ? 1 : 2;
        *out += "[";
        for (const RespValue& entry : value.elements[i + 1].elements) {
          *out += "[";
          for (size_t j = 0; j < entry.elements.size(); ++j) {
            if (j != time_at) AppendStreamInfo(out, entry.elements[j], "");
          }
          *out += "]";
        }
        *out += "]";
      } else {
        AppendStreamInfo(out, value.elements[i + 1], name);
      }
    }
    *out += "}";
    return;
  }
  if (value.type == RespValue::Type::kArray || value.type == RespValue::Type::kSet) {
    *out += "[";
    for (const RespValue& element : value.elements) AppendStreamInfo(out, element, parent);
    *out += "]";
    return;
  }
  if (value.type == RespValue::Type::kInteger) {
    AppendField(out, absl::StrCat(value.integer));
  } else {
    AppendField(out, value.str);
  }
}

bool HasFieldExpiry(std::string_view type, bool field_expiry) {
  return field_expiry && type == "hash";
}

}  // namespace

std::vector<std::vector<std::string>> LogicalCommands(std::string_view type,
                                                      const std::string& key) {
  if (type == "string") return {{"GET", key}};
  if (type == "list") return {{"LRANGE", key, "0", "-1"}};
  if (type == "set") return {{"SMEMBERS", key}};
  if (type == "zset") return {{"ZRANGE", key, "0", "-1", "WITHSCORES"}};
  if (type == "hash") return {{"HGETALL", key}};
  if (type == "stream") return {{"XINFO", "STREAM", key, "FULL", "COUNT", "0"}};
  return {{"DUMP", key}};
}

std::string CanonicalValue(std::string_view type, std::vector<RespValue> replies) {
  std::string out(type);
  out += "|";
  for (RespValue& reply : replies) {
    if (type == "set") {
      std::vector<std::string> members;
      for (RespValue& e : reply.elements) members.push_back(std::move(e.str));
      std::sort(members.begin(), members.end());
      for (const std::string& m : members) AppendField(&out, m);
    } else if (type == "hash") {
      std::vector<std::pair<std::string, std::string>> fields;
      for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        fields.emplace_back(std::move(reply.elements[i].str), std::move(reply.elements[i + 1].str));
      }
      std::sort(fields.begin(), fields.end());
      for (const auto& [f, v] : fields) {
        AppendField(&out, f);
        AppendField(&out, v);
      }
    } else if (type == "stream") {
      AppendStreamInfo(&out, reply, "");
    } else if (reply.type == RespValue::Type::kBulkString) {
      AppendField(&out, reply.str);
    } else {
      AppendField(&out, reply.ToString());
    }
    out += "|";
  }
  return out;
}

namespace {

// `commands` pipelined, each behind an ASKING when `asking` (a key of a
// slot its cluster node is importing); their replies only.
asio::awaitable<absl::StatusOr<std::vector<RespValue>>> PipelineAsking(
    RedisConnection& connection, std::vector<std::vector<std::string>> commands, bool asking) {
  if (!asking) co_return co_await connection.Pipeline(commands);
  std::vector<std::vector<std::string>> with_asking;
  for (std::vector<std::string>& command : commands) {
    with_asking.push_back({"ASKING"});
    with_asking.push_back(std::move(command));
  }
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies, co_await connection.Pipeline(with_asking));
  std::vector<RespValue> own;
  for (size_t i = 0; i + 1 < replies.size(); i += 2) {
    if (replies[i].IsError()) {
      co_return absl::FailedPreconditionError(
          absl::StrCat(connection.peer(), ": ASKING: ", replies[i].str));
    }
    own.push_back(std::move(replies[i + 1]));
  }
  co_return own;
}

}  // namespace

asio::awaitable<absl::StatusOr<std::optional<LogicalValue>>> ReadLogicalValue(
    RedisConnection& connection, const std::string& key, bool field_expiry, bool asking) {
  std::vector<std::vector<std::string>> type_command = {{"TYPE", key}};
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> type_reply,
                      co_await PipelineAsking(connection, std::move(type_command), asking));
  RespValue& type = type_reply[0];
  if (type.IsError()) {
    co_return absl::FailedPreconditionError(absl::StrCat(connection.peer(), ": TYPE: ", type.str));
  }
  if (type.str == "none") co_return std::nullopt;
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                      co_await PipelineAsking(connection, LogicalCommands(type.str, key), asking));
  for (const RespValue& reply : replies) {
    if (reply.IsError()) {
      co_return absl::FailedPreconditionError(
          absl::StrCat(connection.peer(), ": reading ", type.str, " value: ", reply.str));
    }
  }
  LogicalValue value;
  value.type = type.str;
  if (HasFieldExpiry(type.str, field_expiry) && !replies[0].elements.empty()) {
    std::vector<std::string> fields;
    for (size_t i = 0; i + 1 < replies[0].elements.size(); i += 2) {
      fields.push_back(replies[0].elements[i].str);
    }
    std::vector<std::string> expiry = {"HPEXPIRETIME", key, "FIELDS",
                                       std::to_string(fields.size())};
    expiry.insert(expiry.end(), fields.begin(), fields.end());
    std::vector<std::vector<std::string>> expiry_command = {std::move(expiry)};
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> expiry_reply,
                        co_await PipelineAsking(connection, std::move(expiry_command), asking));
    RespValue& times = expiry_reply[0];
    if (times.IsError() || times.elements.size() != fields.size()) {
      co_return absl::FailedPreconditionError(
          absl::StrCat(connection.peer(), ": HPEXPIRETIME: ", times.ToString()));
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (times.elements[i].integer >= 0) {
        value.field_expiry[fields[i]] = times.elements[i].integer;
      }
    }
  }
  value.canonical = CanonicalValue(type.str, std::move(replies));
  co_return value;
}

std::optional<KeyDifference> CompareLogical(const LogicalValue& source, const LogicalValue& target,
                                            int64_t tolerance_ms, int64_t now_ms) {
  if (source.type != target.type) {
    return KeyDifference{VerifyProblemKind::kDifferentValue,
                         absl::StrCat("type: source ", source.type, ", target ", target.type)};
  }
  if (source.canonical != target.canonical) {
    return KeyDifference{VerifyProblemKind::kDifferentValue,
                         absl::StrCat("value: ", source.type, " differs (", source.canonical.size(),
                                      " bytes canonical on the source, ", target.canonical.size(),
                                      " on the target)")};
  }
  std::set<std::string> fields;
  for (const auto& [field, at] : source.field_expiry) fields.insert(field);
  for (const auto& [field, at] : target.field_expiry) fields.insert(field);
  for (const std::string& field : fields) {
    auto s = source.field_expiry.find(field);
    auto t = target.field_expiry.find(field);
    int64_t source_at = s == source.field_expiry.end() ? -1 : s->second;
    int64_t target_at = t == target.field_expiry.end() ? -1 : t->second;
    if (std::optional<std::string> detail =
            CompareExpiry(source_at, target_at, tolerance_ms, /*absolute=*/true, now_ms,
                          absl::StrCat("field '", field, "' ttl"))) {
      return KeyDifference{VerifyProblemKind::kDifferentTtl, std::move(*detail)};
    }
  }
  return std::nullopt;
}

}  // namespace reshard::engine
