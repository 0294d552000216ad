#pragma once

// Which RDB version a server writes and can load, from its INFO server
// section (Redis: redis_version; Valkey: valkey_version, which Valkey >= 8
// reports besides a redis_version of 7.2.4). A loader refuses versions newer
// than its own, so a target older than the source cannot take its snapshot.

#include <optional>
#include <string>
#include <string_view>

namespace reshard::engine {

struct ServerVersion {
  std::string product;           // "Redis" or "Valkey"
  std::string version;           // "7.0.15"
  int major = 0;                 // 7
  int minor = 0;                 // 0
  int rdb_version = 0;           // the newest RDB version it writes and loads
  std::string ToString() const;  // "Redis 7.0.15 (RDB 10)"
};

// Parses an INFO reply (any sections; "key:value" lines). nullopt when it
// names no version this table knows.
std::optional<ServerVersion> ServerVersionFromInfo(std::string_view info);

// The RDB version a Redis or Valkey release writes, e.g. ("Redis", 7, 2) -> 11.
int RdbVersionOfRelease(std::string_view product, int major, int minor);

}  // namespace reshard::engine
