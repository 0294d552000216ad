#include "tests/support/random_workload.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/route/hash_slot.h"

namespace reshard::testing {
namespace {

const char kTargetPrefix[] = {'r', 'g', 's'};
const char* const kPoolNames[] = {"str",    "list", "hash", "set", "zset",
                                  "stream", "hll",  "geo",  "bits"};

}  // namespace

const char kWorkloadFunctionLibrary[] =
    "#!lua name=wl\n"
    "redis.register_function('wr', function(keys, args) "
    "redis.call('SET', keys[1], args[1]); "
    "redis.call('RPUSH', keys[2], args[1]); return 1 end)";

std::string WorkloadKeyName(int target, const std::string& base) {
  std::string name = absl::StrCat(std::string(1, kTargetPrefix[target]), ":", base);
  for (int i = 0;; ++i) {
    std::string candidate = i == 0 ? name : absl::StrCat(name, ":", i);
    bool low = engine::KeyHashSlot(candidate) < 8192;
    if (low == (target == 2)) return candidate;
  }
}

RandomWorkload::RandomWorkload(uint32_t seed, WorkloadOptions options)
    : rng_(seed), options_(options) {
  for (int t = 0; t < 3; ++t) {
    for (int p = 0; p < kPools; ++p) {
      for (int i = 0; i < kPerPool; ++i) {
        names_[t][p].push_back(WorkloadKeyName(t, absl::StrCat(kPoolNames[p], ":", i)));
      }
    }
  }
}

Commands RandomWorkload::Batch(int n) {
  Commands c;
  for (int j = 0; j < n; ++j) One(&c);
  if (!options_.single_db) c.push_back({"SELECT", "0"});
  return c;
}

std::string RandomWorkload::V() { return absl::StrCat("v", R(1000)); }

// Hash fields with expiries, relative and absolute (the sources replicate
// them as PXAT); HGETDEL/HGETEX read and write.
void RandomWorkload::FieldTtlWrite(Commands* c) {
  std::string key = K(kHash), field = absl::StrCat("f", R(20));
  std::string ms = std::to_string(3600000 * (1 + R(5)));
  switch (R(5)) {
    case 0:
      c->push_back({"HSETEX", key, "PX", ms, "FIELDS", "1", field, V()});
      break;
    case 1:
      c->push_back({"HPEXPIRE", key, ms, "FIELDS", "1", field});
      break;
    case 2:
      c->push_back({"HGETEX", key, "EX", std::to_string(3600 * (1 + R(5))), "FIELDS", "1", field});
      break;
    case 3:
      c->push_back({"HGETDEL", key, "FIELDS", "1", field});
      break;
    case 4:
      c->push_back({"HPERSIST", key, "FIELDS", "1", field});
      break;
  }
}

void RandomWorkload::One(Commands* c) {
  ++counter_;
  int op = R(30);
  if (op < 26 && !options_.single_db) c->push_back({"SELECT", std::to_string(R(3))});
  switch (op) {
    case 0:
      c->push_back({"SET", K(kStr), V()});
      break;
    case 1:
      c->push_back({"APPEND", K(kStr), V()});
      break;
    case 2:
      c->push_back({R(2) ? "LPUSH" : "RPUSH", K(kList), V(), V()});
      if (R(3) == 0) c->push_back({"LPOP", K(kList)});
      break;
    case 3:
      c->push_back({"HSET", K(kHash), absl::StrCat("f", R(20)), V()});
      if (R(4) == 0) c->push_back({"HDEL", K(kHash), absl::StrCat("f", R(20))});
      if (options_.field_ttls) FieldTtlWrite(c);
      break;
    case 4:
      c->push_back({"SADD", K(kSet), absl::StrCat("m", R(30)), absl::StrCat("m", R(30))});
      if (R(4) == 0) c->push_back({"SREM", K(kSet), absl::StrCat("m", R(30))});
      break;
    case 5:
      c->push_back({"ZADD", K(kZset), std::to_string(R(100)), absl::StrCat("m", R(30))});
      c->push_back({"ZINCRBY", K(kZset), "1.5", absl::StrCat("m", R(30))});
      break;
    case 6: {
      std::string s = K(kStream);
      c->push_back({"XADD", s, "*", "f", V()});
      c->push_back({"XGROUP", "CREATE", s, "grp", "0", "MKSTREAM"});  // may fail: exists
      c->push_back(
          {"XREADGROUP", "GROUP", "grp", absl::StrCat("c", R(3)), "COUNT", "2", "STREAMS", s, ">"});
      // A replica applies XREADGROUP as XCLAIM ... LASTID, which does not
      // move the group's entries-read (Redis 7): a real replica's XINFO
      // GROUPS differs the same way. SETID $ makes it exact again.
      c->push_back({"XGROUP", "SETID", s, "grp", "$"});
      if (R(3) == 0) c->push_back({"XACK", s, "grp", "0-1"});
      if (R(3) == 0) c->push_back({"XTRIM", s, "MAXLEN", "20"});
      break;
    }
    case 7:
      c->push_back({"PFADD", K(kHll), V(), V(), V()});
      break;
    case 8:
      c->push_back({"GEOADD", K(kGeo), absl::StrCat(R(100) / 10.0 + 13),
                    absl::StrCat(R(100) / 10.0 + 52), absl::StrCat("p", R(20))});
      break;
    case 9:
      c->push_back({"SETBIT", K(kBits), std::to_string(R(500)), std::to_string(R(2))});
      break;
    case 10: {
      // Relative expiries: Redis 6.0 replicates them as sent, and the job
      // makes them absolute from when it read them, so a target that
      // applies them late still gets the source's expiry.
      std::string key = WorkloadKeyName(R(3), absl::StrCat("exp:", R(20)));
      if (!relative_expiries) {
        std::string at = std::to_string(absl::ToUnixSeconds(absl::Now()) + 3600 * (1 + R(5)));
        c->push_back({"SET", key, V()});
        c->push_back({"EXPIREAT", key, at});
        c->push_back({"EXPIREAT", K(kStr), at});
        break;
      }
      std::string seconds = std::to_string(3600 * (1 + R(5)));
      switch (R(4)) {
        case 0:
          c->push_back({"SET", key, V(), "EX", seconds});
          break;
        case 1:
          c->push_back({"SETEX", key, seconds, V()});
          break;
        case 2:
          c->push_back({"PSETEX", key, seconds + "250", V()});
          break;
        case 3:
          c->push_back({"SET", key, V(), "PX", seconds + "500", R(2) ? "XX" : "NX"});
          break;
      }
      std::string other = K(kStr);
      c->push_back({"EXPIRE", other, std::to_string(3600 * (1 + R(5)))});
      if (R(2) == 0) c->push_back({"PEXPIRE", K(kList), std::to_string(3600000 + R(100000))});
      if (options_.redis62 && R(2) == 0) c->push_back({"GETEX", other, "EX", seconds});
      break;
    }
    case 11: {
      c->push_back({"MULTI"});
      c->push_back({"INCR", WorkloadKeyName(R(3), "counter")});
      c->push_back({"HSET", K(kHash), "tx", V()});
      c->push_back({"SADD", K(kSet), V()});
      c->push_back({"EXEC"});
      break;
    }
    case 12:
      c->push_back({"EVAL",
                    "redis.call('SET', KEYS[1], ARGV[1]); redis.call('RPUSH', KEYS[2], ARGV[1]); "
                    "return 1",
                    "2", K(kStr), K(kList), V()});
      break;
    case 13:
      if (options_.functions) {
        c->push_back({"FCALL", "wr", "2", K(kStr), K(kList), V()});
      } else {
        c->push_back({"DEL", K(kStr), K(kList)});
      }
      break;
    // Cross-target writes.
    case 14: {
      std::string from = K(kStr);
      c->push_back({"RENAME", from, Other(kStr, from)});  // fails when from is missing
      break;
    }
    case 15: {
      std::string from = K(kSet);
      c->push_back({"SMOVE", from, Other(kSet, from), absl::StrCat("m", R(30))});
      break;
    }
    case 16: {
      std::string dst = K(kSet);
      c->push_back({"SUNIONSTORE", dst, Other(kSet, dst), K(kSet)});
      if (R(2) == 0) c->push_back({"SINTERSTORE", K(kSet), Other(kSet, dst), dst});
      break;
    }
    case 17: {
      std::string from = K(kList);
      if (options_.redis62) {
        c->push_back({"LMOVE", from, Other(kList, from), "LEFT", "RIGHT"});
      } else {
        c->push_back({"RPOPLPUSH", from, Other(kList, from)});
      }
      break;
    }
    case 18: {
      std::string a = WorkloadKeyName(R(3), absl::StrCat("nx:", counter_));
      c->push_back({"MSETNX", a, V(), Other(kStr, a), V()});
      std::string b = WorkloadKeyName(R(3), absl::StrCat("nx2:", counter_));
      c->push_back({"MSETNX", b, V(), Other(kStr, b) + ":fresh", V()});
      break;
    }
    case 19: {
      std::string dst = K(kHll);
      c->push_back({"PFMERGE", dst, Other(kHll, dst), K(kHll)});
      break;
    }
    case 20: {
      std::string dst = K(kGeo);
      if (options_.redis62) {
        c->push_back({"GEOSEARCHSTORE", dst, Other(kGeo, dst), "FROMLONLAT", "15", "55", "BYRADIUS",
                      "500", "km"});
      } else {
        c->push_back({"GEORADIUS", Other(kGeo, dst), "15", "55", "500", "km", "STORE", dst});
      }
      break;
    }
    case 21: {
      std::string dst = K(kBits);
      c->push_back({"BITOP", R(2) ? "OR" : "XOR", dst, Other(kBits, dst), K(kBits)});
      break;
    }
    case 22: {
      std::string from = K(kZset);
      c->push_back({"ZUNIONSTORE", Other(kZset, from), "2", from, K(kZset)});
      break;
    }
    case 23: {
      std::string from = K(kHash);
      if (options_.redis62) {
        c->push_back({"COPY", from, Other(kHash, from), "REPLACE"});
      } else {
        c->push_back({"RENAMENX", from, Other(kHash, from)});
      }
      break;
    }
    case 24:
      c->push_back({"DEL", K(kStr), K(kSet), K(kHash)});
      break;
    case 25:
      c->push_back({"MSET", K(kStr), V(), K(kStr), V()});
      break;
    case 26:
      if (!options_.single_db) c->push_back({"SELECT", "3"});
      c->push_back({"SET", WorkloadKeyName(R(3), "scratch"), V()});
      c->push_back({"SADD", WorkloadKeyName(R(3), "scratchset"), V()});
      break;
    case 27:
      if (options_.single_db) {
        c->push_back(
            {"DEL", WorkloadKeyName(R(3), "scratch"), WorkloadKeyName(R(3), "scratchset")});
        break;
      }
      c->push_back({"SELECT", "3"});
      c->push_back({"FLUSHDB"});
      break;
    case 28:
      if (R(3) == 0 && !options_.single_db) c->push_back({"SWAPDB", "1", "2"});
      break;
    case 29:
      // Touch keys that may be in a skip window, in the other dbs too.
      if (!options_.single_db) c->push_back({"SELECT", std::to_string(R(3))});
      c->push_back({"SADD", K(kSet), V()});
      c->push_back({"RPUSH", K(kList), V()});
      break;
  }
}

}  // namespace reshard::testing
