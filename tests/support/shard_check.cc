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

namespace {

// The commands that read a key of `type` (TYPE's reply) for its canonical form.
std::vector<std::vector<std::string>> ValueCommands(const std::string& type,
                                                    const std::string& key) {
  if (type == "none") return {};
  if (type == "string") return {{"GET", key}};
  if (type == "list") return {{"LRANGE", key, "0", "-1"}};
  if (type == "set") return {{"SMEMBERS", key}};
  if (type == "zset") return {{"ZRANGE", key, "0", "-1", "WITHSCORES"}};
  if (type == "hash") return {{"HGETALL", key}};
  if (type == "stream") return {{"XRANGE", key, "-", "+"}, {"XINFO", "GROUPS", key}};
  return {{"DUMP", key}};  // anything else (module types): the serialized form
}

// The canonical form from the replies to ValueCommands(type, key), in order;
// `field_expiries` is FieldExpiries' text for a hash.
absl::StatusOr<std::string> Render(const std::string& type, const std::vector<RespValue>& replies,
                                   const std::string& field_expiries) {
  if (type == "none") return std::string("none");
  // XINFO GROUPS may fail (a server without it): the rest may not.
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].IsError() && !(type == "stream" && i == 1)) {
      return absl::UnknownError(absl::StrCat("reading a ", type, ": ", replies[i].str));
    }
  }
  const RespValue& v = replies.at(0);
  if (type == "string") return absl::StrCat("string:", absl::CHexEscape(v.str));
  if (type == "list") {
    return absl::StrCat("list:", absl::StrJoin(Strings(v), ",", [](std::string* out, auto& s) {
                          out->append(absl::CHexEscape(s));
                        }));
  }
  if (type == "set") {
    std::vector<std::string> members = Strings(v);
    std::sort(members.begin(), members.end());
    return absl::StrCat("set:", absl::CHexEscape(absl::StrJoin(members, "\x1f")));
  }
  if (type == "zset") {
    return absl::StrCat("zset:", absl::CHexEscape(absl::StrJoin(Strings(v), "\x1f")));
  }
  if (type == "hash") return absl::StrCat("hash:", SortedPairs(v), field_expiries);
  if (type == "stream") {
    std::string out = "stream:" + v.ToString();
    if (!replies[1].IsError()) out += "|groups:" + replies[1].ToString();
    return out;
  }
  return absl::StrCat(type, ":", absl::CHexEscape(v.str));
}

// Canonical value and expiry of each of `keys` (in the client's db), read
// in pipelined round trips: TYPE of every key, then its value commands and
// PEXPIRETIME, then the hashes' field expiries.
struct KeyState {
  std::string value;
  Expiry expiry;
};

absl::StatusOr<std::vector<KeyState>> ReadKeys(RedisClient& client,
                                               const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> commands;
  for (const std::string& key : keys) commands.push_back({"TYPE", key});
  absl::StatusOr<std::vector<RespValue>> types = client.Pipeline(commands);
  if (!types.ok()) return types.status();
  commands.clear();
  std::vector<size_t> first(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if ((*types)[i].IsError()) return absl::UnknownError("TYPE: " + (*types)[i].str);
    first[i] = commands.size();
    for (auto& command : ValueCommands((*types)[i].str, keys[i])) commands.push_back(command);
    commands.push_back({"PEXPIRETIME", keys[i]});
  }
  absl::StatusOr<std::vector<RespValue>> replies = client.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  std::vector<KeyState> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& type = (*types)[i].str;
    const size_t n = ValueCommands(type, keys[i]).size();
    std::vector<RespValue> value(replies->begin() + first[i], replies->begin() + first[i] + n);
    std::string field_expiries;
    if (type == "hash") field_expiries = FieldExpiries(client, keys[i], value.at(0));
    absl::StatusOr<std::string> rendered = Render(type, value, field_expiries);
    if (!rendered.ok()) return rendered.status();
    out[i].value = std::move(*rendered);
    const RespValue& expire = (*replies)[first[i] + n];
    if (!expire.IsError()) {
      out[i].expiry = Expiry{expire.integer, true};
    } else {
      absl::StatusOr<Expiry> expiry = ExpireTime(client, keys[i]);  // before Redis 7.0
      if (!expiry.ok()) return expiry.status();
      out[i].expiry = *expiry;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> CanonicalValue(RedisClient& client, const std::string& key) {
  absl::StatusOr<RespValue> type = client.CheckedCommand({"TYPE", key});
  if (!type.ok()) return type.status();
  std::vector<RespValue> replies;
  for (auto& command : ValueCommands(type->str, key)) {
    absl::StatusOr<RespValue> reply = client.Command(command);
    if (!reply.ok()) return reply.status();
    replies.push_back(std::move(*reply));
  }
  std::string field_expiries;
  if (type->str == "hash" && !replies.at(0).IsError()) {
    field_expiries = FieldExpiries(client, key, replies[0]);
  }
  return Render(type->str, replies, field_expiries);
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
      std::vector<std::string> present;
      for (const std::string& key : *source_keys) {
        if (!targets[t].filter->Matches(key)) continue;
        wanted.insert(key);
        if (have.count(key) == 0) {
          report.problems.push_back(absl::StrCat("db ", db, " key ", Quote(key), " on target ",
                                                 targets[t].name, ": missing"));
          continue;
        }
        present.push_back(key);
      }
      constexpr size_t kBatch = 256;
      for (size_t begin = 0; begin < present.size(); begin += kBatch) {
        std::vector<std::string> batch(present.begin() + begin,
                                       present.begin() + std::min(present.size(), begin + kBatch));
        absl::StatusOr<std::vector<KeyState>> want = ReadKeys(source, batch);
        if (!want.ok()) return want.status();
        absl::StatusOr<std::vector<KeyState>> got = ReadKeys(target, batch);
        if (!got.ok()) return got.status();
        for (size_t i = 0; i < batch.size(); ++i) {
          std::string where = absl::StrCat("db ", db, " key ", Quote(batch[i]), " on target ",
                                           targets[t].name, ": ");
          const KeyState& w = (*want)[i];
          const KeyState& g = (*got)[i];
          if (w.value != g.value) {
            report.problems.push_back(absl::StrCat(where, "value differs: source ",
                                                   w.value.substr(0, 200), " target ",
                                                   g.value.substr(0, 200)));
          }
          if (!SameExpiry(w.expiry, g.expiry)) {
            report.problems.push_back(absl::StrCat(where, "expiry differs: source ",
                                                   w.expiry.unix_ms, " target ", g.expiry.unix_ms));
          }
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
