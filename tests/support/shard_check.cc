#include "tests/support/shard_check.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace reshard::testing {
namespace {

using engine::RespValue;

std::string Quote(const std::string& key) { return absl::StrCat("'", absl::CHexEscape(key), "'"); }

std::vector<std::string> Strings(const RespValue& value) {
  std::vector<std::string> out;
  for (const RespValue& e : value.elements) out.push_back(e.str);
  return out;
}

// Pairs of a flat [f1, v1, f2, v2, ...] reply, sorted.
std::string SortedPairs(const RespValue& value) {
  std::vector<std::string> pairs;
  for (size_t i = 0; i + 1 < value.elements.size(); i += 2) {
    pairs.push_back(absl::StrCat(absl::CHexEscape(value.elements[i].str), "=",
                                 absl::CHexEscape(value.elements[i + 1].str)));
  }
  std::sort(pairs.begin(), pairs.end());
  return absl::StrJoin(pairs, ",");
}

// Hash-field expiries (Redis >= 7.4, Valkey >= 9): "|fields-expire:f=t,..."
// for the fields that have one; "" where the server has no HPEXPIRETIME or no
// field expires.
std::string FieldExpiries(RedisClient& client, const std::string& key, const RespValue& pairs) {
  std::vector<std::string> fields;
  for (size_t i = 0; i + 1 < pairs.elements.size(); i += 2) fields.push_back(pairs.elements[i].str);
  if (fields.empty()) return "";
  std::sort(fields.begin(), fields.end());
  std::vector<std::string> command = {"HPEXPIRETIME", key, "FIELDS", std::to_string(fields.size())};
  command.insert(command.end(), fields.begin(), fields.end());
  absl::StatusOr<RespValue> reply = client.Command(command);
  if (!reply.ok() || reply->IsError() || reply->elements.size() != fields.size()) return "";
  std::vector<std::string> out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (reply->elements[i].integer >= 0) {
      out.push_back(absl::StrCat(absl::CHexEscape(fields[i]), "=", reply->elements[i].integer));
    }
  }
  if (out.empty()) return "";
  return absl::StrCat("|fields-expire:", absl::StrJoin(out, ","));
}

// Absolute expiry in unix ms (-1: none, -2: no key). Exact with PEXPIRETIME
// (Redis >= 7.0); estimated from PTTL on older servers.
struct Expiry {
  int64_t unix_ms = -1;
  bool exact = true;
};

absl::StatusOr<Expiry> ExpireTime(RedisClient& client, const std::string& key) {
  absl::StatusOr<RespValue> reply = client.Command({"PEXPIRETIME", key});
  if (!reply.ok()) return reply.status();
  if (!reply->IsError()) return Expiry{reply->integer, true};
  reply = client.CheckedCommand({"PTTL", key});
  if (!reply.ok()) return reply.status();
  if (reply->integer < 0) return Expiry{reply->integer, true};
  return Expiry{absl::ToUnixMillis(absl::Now()) + reply->integer, false};
}

bool SameExpiry(const Expiry& a, const Expiry& b) {
  if (a.exact && b.exact) return a.unix_ms == b.unix_ms;
  if ((a.unix_ms < 0) != (b.unix_ms < 0)) return false;
  if (a.unix_ms < 0) return a.unix_ms == b.unix_ms;
  // PTTL readings a moment apart on two servers.
  return std::abs(a.unix_ms - b.unix_ms) <= 2000;
}

}  // namespace

absl::StatusOr<std::string> CanonicalValue(RedisClient& client, const std::string& key) {
  absl::StatusOr<RespValue> type = client.CheckedCommand({"TYPE", key});
  if (!type.ok()) return type.status();
  const std::string& t = type->str;
  absl::StatusOr<RespValue> v;
  if (t == "none") return std::string("none");
  if (t == "string") {
    v = client.CheckedCommand({"GET", key});
    if (!v.ok()) return v.status();
    return absl::StrCat("string:", absl::CHexEscape(v->str));
  }
  if (t == "list") {
    v = client.CheckedCommand({"LRANGE", key, "0", "-1"});
    if (!v.ok()) return v.status();
    return absl::StrCat("list:", absl::StrJoin(Strings(*v), ",", [](std::string* out, auto& s) {
                          out->append(absl::CHexEscape(s));
                        }));
  }
  if (t == "set") {
    v = client.CheckedCommand({"SMEMBERS", key});
    if (!v.ok()) return v.status();
    std::vector<std::string> members = Strings(*v);
    std::sort(members.begin(), members.end());
    return absl::StrCat("set:", absl::CHexEscape(absl::StrJoin(members, "\x1f")));
  }
  if (t == "zset") {
    v = client.CheckedCommand({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    if (!v.ok()) return v.status();
    return absl::StrCat("zset:", absl::CHexEscape(absl::StrJoin(Strings(*v), "\x1f")));
  }
  if (t == "hash") {
    v = client.CheckedCommand({"HGETALL", key});
    if (!v.ok()) return v.status();
    return absl::StrCat("hash:", SortedPairs(*v), FieldExpiries(client, key, *v));
  }
  if (t == "stream") {
    v = client.CheckedCommand({"XRANGE", key, "-", "+"});
    if (!v.ok()) return v.status();
    std::string out = "stream:" + v->ToString();
    absl::StatusOr<RespValue> groups = client.CheckedCommand({"XINFO", "GROUPS", key});
    if (groups.ok()) out += "|groups:" + groups->ToString();
    return out;
  }
  // Anything else (module types): the serialized form.
  v = client.CheckedCommand({"DUMP", key});
  if (!v.ok()) return v.status();
  return absl::StrCat(t, ":", absl::CHexEscape(v->str));
}

std::string ShardCheckReport::Summary(size_t max_problems) const {
  std::string out = absl::StrCat("source keys ", source_keys, "; per target:");
  for (size_t n : keys_per_target) absl::StrAppend(&out, " ", n);
  absl::StrAppend(&out, "; ", problems.size(), " problems");
  for (size_t i = 0; i < problems.size() && i < max_problems; ++i) {
    absl::StrAppend(&out, "\n  ", problems[i]);
  }
  return out;
}

absl::StatusOr<ShardCheckReport> CheckShards(RedisClient& source,
                                             const std::vector<ShardCheckTarget>& targets,
                                             int db_count) {
  ShardCheckReport report;
  report.keys_per_target.assign(targets.size(), 0);
  for (int db = 0; db < db_count; ++db) {
    absl::StatusOr<std::vector<std::string>> source_keys = source.Keys(db);
    if (!source_keys.ok()) return source_keys.status();
    report.source_keys += source_keys->size();
    std::string select_db = std::to_string(db);
    if (auto s = source.CheckedCommand({"SELECT", select_db}); !s.ok()) return s.status();
    for (size_t t = 0; t < targets.size(); ++t) {
      RedisClient& target = *targets[t].client;
      absl::StatusOr<std::vector<std::string>> target_keys = target.Keys(db);
      if (!target_keys.ok()) return target_keys.status();
      report.keys_per_target[t] += target_keys->size();
      std::set<std::string> have(target_keys->begin(), target_keys->end());
      if (auto s = target.CheckedCommand({"SELECT", select_db}); !s.ok()) return s.status();
      std::set<std::string> wanted;
      for (const std::string& key : *source_keys) {
        if (!targets[t].filter->Matches(key)) continue;
        wanted.insert(key);
        std::string where =
            absl::StrCat("db ", db, " key ", Quote(key), " on target ", targets[t].name, ": ");
        if (have.count(key) == 0) {
          report.problems.push_back(where + "missing");
          continue;
        }
        absl::StatusOr<std::string> want_value = CanonicalValue(source, key);
        absl::StatusOr<std::string> got_value = CanonicalValue(target, key);
        if (!want_value.ok()) return want_value.status();
        if (!got_value.ok()) return got_value.status();
        if (*want_value != *got_value) {
          report.problems.push_back(absl::StrCat(where, "value differs: source ",
                                                 want_value->substr(0, 200), " target ",
                                                 got_value->substr(0, 200)));
        }
        absl::StatusOr<Expiry> want_expire = ExpireTime(source, key);
        absl::StatusOr<Expiry> got_expire = ExpireTime(target, key);
        if (!want_expire.ok()) return want_expire.status();
        if (!got_expire.ok()) return got_expire.status();
        if (!SameExpiry(*want_expire, *got_expire)) {
          report.problems.push_back(absl::StrCat(where, "expiry differs: source ",
                                                 want_expire->unix_ms, " target ",
                                                 got_expire->unix_ms));
        }
      }
      for (const std::string& key : have) {
        if (wanted.count(key) == 0) {
          report.problems.push_back(absl::StrCat("db ", db, " key ", Quote(key), " on target ",
                                                 targets[t].name, ": stray (not for this target",
                                                 " or not on the source)"));
        }
      }
    }
  }
  return report;
}

}  // namespace reshard::testing
