#pragma once

// RandomWorkload: a seeded randomized write workload for end-to-end tests of
// a split. Every data type, expiries (relative and absolute), hash-field
// TTLs, transactions, scripts, functions, several dbs with SWAPDB and
// FLUSHDB, and writes whose keys hash to different places (RENAME, SMOVE,
// SUNIONSTORE, LMOVE, MSETNX, BITOP, PFMERGE, GEOSEARCHSTORE, COPY, ...).
// Key names (WorkloadKeyName) select exactly one of three targets: ^r:, g:*
// and the slots 0-8191; on a cluster target the same names spread over its
// masters, and the writes across "targets" are writes across slots.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace reshard::testing {

using Commands = std::vector<std::vector<std::string>>;

// "r:BASE..." (slot >= 8192), "g:BASE..." (slot >= 8192) or "s:BASE..."
// (slot < 8192) for target 0, 1 or 2.
std::string WorkloadKeyName(int target, const std::string& base);

// The library FCALL wr calls: FUNCTION LOAD it on the source first.
extern const char kWorkloadFunctionLibrary[];

struct WorkloadOptions {
  bool redis62 = true;      // LMOVE, COPY, GEOSEARCHSTORE
  bool functions = true;    // FCALL (else DEL)
  bool field_ttls = false;  // HSETEX, HGETEX, HGETDEL, HPEXPIRE, HPERSIST (Redis 8, Valkey 9)
  // Db 0 only (a cluster): no SELECT, SWAPDB or FLUSHDB; the scratch keys
  // are written and deleted in db 0.
  bool single_db = false;
};

class RandomWorkload {
 public:
  RandomWorkload(uint32_t seed, WorkloadOptions options);

  // Off: EXPIREAT instead of EX, EXPIRE, SETEX, ...
  bool relative_expiries = true;

  // One batch of about `n` random writes (ending in SELECT 0 unless single_db).
  Commands Batch(int n);

 private:
  static constexpr int kPerPool = 5;
  enum Pool { kStr, kList, kHash, kSet, kZset, kStream, kHll, kGeo, kBits, kPools };

  int R(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string K(Pool p) { return names_[R(3)][p][R(kPerPool)]; }
  // A key of pool p on another target than `key`.
  std::string Other(Pool p, const std::string& key) {
    int t = key[0] == 'r' ? 0 : key[0] == 'g' ? 1 : 2;
    return names_[(t + 1 + R(2)) % 3][p][R(kPerPool)];
  }
  std::string V();
  void FieldTtlWrite(Commands* c);
  void One(Commands* c);

  std::mt19937 rng_;
  WorkloadOptions options_;
  uint64_t counter_ = 0;
  std::vector<std::string> names_[3][kPools];
};

}  // namespace reshard::testing
