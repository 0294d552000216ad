#pragma once

// ShardCheck: the oracle of the end-to-end tests. Compares a source Redis with
// its targets: every key of the source must be on exactly the targets whose
// filter selects it, with the same value (compared in a canonical form: sets
// and hashes sorted, since hash tables iterate in a per-process order) and
// the same absolute expiry (PEXPIRETIME; on servers without it, PTTL within
// 2 s); no target may hold anything else.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/route/key_filter.h"
#include "tests/support/redis_client.h"

namespace reshard::testing {

struct ShardCheckTarget {
  std::string name;
  const engine::KeyFilter* filter;
  RedisClient* client;
};

struct ShardCheckReport {
  std::vector<size_t> keys_per_target;  // over all checked dbs
  size_t source_keys = 0;
  std::vector<std::string> problems;  // "db 0 key '7:x': missing on target b", ...
  bool ok() const { return problems.empty(); }
  std::string Summary(size_t max_problems = 20) const;
};

// Checks dbs [0, db_count). Errors only when a server cannot be read.
absl::StatusOr<ShardCheckReport> CheckShards(RedisClient& source,
                                             const std::vector<ShardCheckTarget>& targets,
                                             int db_count);

// A canonical, type-aware rendering of one key's value ("none" when absent).
absl::StatusOr<std::string> CanonicalValue(RedisClient& client, const std::string& key);

}  // namespace reshard::testing
