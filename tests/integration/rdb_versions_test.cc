// The RDBs in use today, from real servers: Redis 6.0 (RDB 9), Redis 7.0
// (RDB 10) and Valkey 8.0 (RDB 11). A source of each version gets every type
// in its compact and its large encodings, TTLs, 3 dbs, integer keys, streams
// with consumer groups and pending entries, and functions where the version
// has them. Then:
//  (a) its SAVEd dump.rdb is split offline (client::SplitRdbFile, what
//      `reshardctl rdb split` runs) by a regex, a glob and a slots filter,
//      each part is loaded by a fresh server of the same version, and every
//      key's value and expiry must match the source (shard_check.h);
//  (b) the same split runs live through engine::Job into managed replicas.
//
// Servers: $RESHARD_REDIS6_SERVER / $RESHARD_VALKEY_SERVER, else
// ${RESHARD_BINARY_DIR}/servers/{redis-6.0,valkey-8.0}/bin/ (what
// scripts/test.sh fetches); Redis 7.0 is /usr/bin/redis-server.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/rdb_inspect.h"
#include "client/rdb_split.h"
#include "engine/job/job.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_binaries.h"
#include "tests/support/shard_check.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_servers.h"

namespace reshard {
namespace {

namespace fs = std::filesystem;
using client::RdbSplitTargetSpec;
using engine::FilterKind;
using engine::FilterSpec;
using engine::JobState;
using engine::JobStatus;
using testing::Connect;
using testing::RedisClient;
using testing::RedisServer;
using testing::RedisServerOptions;
using testing::TempDir;

constexpr int kDbCount = 3;

struct ServerVersion {
  std::string name;             // test parameter name
  std::string env;              // environment variable naming the binary
  std::string fetched;          // path under ${RESHARD_BINARY_DIR}/servers
  std::string system;           // a packaged binary, if any
  std::string version_field;    // INFO server field holding the version
  std::string version;          // its expected prefix
  int rdb_version;              // what its SAVE writes
  bool has_functions;           // FUNCTION LOAD (7.0+)
  bool has_field_ttls = false;  // HEXPIRE / HSETEX (Redis 7.4+, Valkey 9+)
  // Extra arguments for every server of this version (e.g. the replication
  // modes a target announces).
  std::vector<std::string> server_args;
  std::string fetch_hint;  // how to get it
  // The types `rdb inspect` must find in its dump of FillRichDataset.
  std::map<std::string, uint64_t> types;
};

std::ostream& operator<<(std::ostream& out, const ServerVersion& v) { return out << v.name; }

constexpr char kFetchHint[] =
    "run scripts/fetch_servers.sh build/servers (scripts/test.sh does) or set ";

const ServerVersion kRedis6{.name = "Redis6",
                            .env = "RESHARD_REDIS6_SERVER",
                            .fetched = "redis-6.0/bin/redis-server",
                            .version_field = "redis_version",
                            .version = "6.0.",
                            .rdb_version = 9,
                            .has_functions = false,
                            .fetch_hint = absl::StrCat(kFetchHint, "RESHARD_REDIS6_SERVER"),
                            .types = {{"hash", 2},
                                      {"hash-ziplist", 2},
                                      {"list-quicklist", 5},
                                      {"set", 4},
                                      {"set-intset", 1},
                                      {"stream-v1", 3},
                                      {"string", 15},
                                      {"zset-ziplist", 2},
                                      {"zset2", 1}}};
const ServerVersion kRedis7{.name = "Redis7",
                            .env = "RESHARD_REDIS7_SERVER",
                            .system = "/usr/bin/redis-server",
                            .version_field = "redis_version",
                            .version = "7.0.",
                            .rdb_version = 10,
                            .has_functions = true,
                            .fetch_hint = "install Debian's redis-server (7.0)",
                            .types = {{"hash", 2},
                                      {"hash-listpack", 2},
                                      {"list-quicklist2", 5},
                                      {"set", 4},
                                      {"set-intset", 1},
                                      {"stream-v2", 3},
                                      {"string", 15},
                                      {"zset-listpack", 2},
                                      {"zset2", 1}}};
// Valkey 8 says redis_version:7.2.4 for compatibility.
const ServerVersion kValkey8{.name = "Valkey8",
                             .env = "RESHARD_VALKEY_SERVER",
                             .fetched = "valkey-8.0/bin/valkey-server",
                             .version_field = "valkey_version",
                             .version = "8.0.",
                             .rdb_version = 11,
                             .has_functions = true,
                             .fetch_hint = absl::StrCat(kFetchHint, "RESHARD_VALKEY_SERVER"),
                             .types = {{"hash", 2},
                                       {"hash-listpack", 2},
                                       {"list-quicklist2", 5},
                                       {"set", 2},
                                       {"set-intset", 1},
                                       {"set-listpack", 2},
                                       {"stream-v3", 3},
                                       {"string", 15},
                                       {"zset-listpack", 2},
                                       {"zset2", 1}}};

// Built from Debian's source packages by scripts/fetch_servers.sh. Redis 8's
// replicas ask for an RDB channel (repl-rdb-channel, on by default); Valkey's
// are told to ask for a dual channel; reshardd serves both on one.
const ServerVersion kRedis8{.name = "Redis8",
                            .env = "RESHARD_REDIS8_SERVER",
                            .fetched = "redis-8.0/bin/redis-server",
                            .version_field = "redis_version",
                            .version = "8.0.",
                            .rdb_version = 12,
                            .has_functions = true,
                            .has_field_ttls = true,
                            .server_args = {"--repl-rdb-channel", "yes"},
                            .fetch_hint = absl::StrCat(kFetchHint, "RESHARD_REDIS8_SERVER"),
                            .types = {{"hash", 2},
                                      {"hash-listpack", 2},
                                      {"list-quicklist2", 5},
                                      {"set", 2},
                                      {"set-intset", 1},
                                      {"set-listpack", 2},
                                      {"stream-v3", 3},
                                      {"string", 15},
                                      {"zset-listpack", 2},
                                      {"zset2", 1},
                                      {"hash-listpack-ex", 2}}};
const ServerVersion kValkey9{.name = "Valkey9",
                             .env = "RESHARD_VALKEY9_SERVER",
                             .fetched = "valkey-9.1/bin/valkey-server",
                             .version_field = "valkey_version",
                             .version = "9.1.",
                             .rdb_version = 80,
                             .has_functions = true,
                             .has_field_ttls = true,
                             .server_args = {"--dual-channel-replication-enabled", "yes"},
                             .fetch_hint = absl::StrCat(kFetchHint, "RESHARD_VALKEY9_SERVER"),
                             .types = {{"hash", 2},
                                       {"hash-listpack", 2},
                                       {"list-quicklist2", 5},
                                       {"set", 2},
                                       {"set-intset", 1},
                                       {"set-listpack", 2},
                                       {"stream-v3", 3},
                                       {"string", 15},
                                       {"zset-listpack", 2},
                                       {"zset2", 1},
                                       {"hash2", 2}}};

// $env, else the fetched build, else the packaged one; "" when none is there.
std::string FindServer(const ServerVersion& v) {
  if (std::optional<std::string> found = testing::FindServerBinary(v.env, v.fetched)) {
    return *found;
  }
  if (!v.system.empty() && fs::exists(v.system)) return v.system;
  return "";
}

// Every type in its compact and its large encoding, in dbs 0-2.
void FillRichDataset(RedisClient& client, bool functions, bool field_ttls) {
  std::vector<std::vector<std::string>> c;
  c.push_back({"SELECT", "0"});
  // Strings: raw, integer-encoded, long and LZF-compressible, binary.
  c.push_back({"SET", "str:small", "hello"});
  c.push_back({"SET", "str:int", "12345"});
  c.push_back({"SET", "str:neg", "-42"});
  c.push_back({"SET", "str:bigint", "9223372036854775807"});
  std::string lzf;
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&lzf, "block", i % 7, "-");
  c.push_back({"SET", "str:lzf", lzf});
  c.push_back({"SET", "str:big", std::string(300 << 10, 'z')});
  c.push_back({"SET", "str:binary", std::string("\x00\xff\r\n\x80 bin", 9)});
  // Integer keys.
  c.push_back({"SET", "12345", "integer key"});
  c.push_back({"SET", "-7", "negative integer key"});
  c.push_back({"SET", "0", "zero"});
  c.push_back({"RPUSH", "100", "a", "b"});
  // Lists: small, > 128 elements, and one element too big for a packed node.
  c.push_back({"RPUSH", "list:small", "a", "b", "3"});
  std::vector<std::string> big_list = {"RPUSH", "list:big"};
  for (int i = 0; i < 600; ++i) big_list.push_back(absl::StrCat("element-", i));
  c.push_back(big_list);
  c.push_back({"RPUSH", "list:plain", std::string(20000, 'p'), "small", "7"});
  // Hashes.
  c.push_back({"HSET", "hash:small", "f1", "v1", "f2", "2", "f3", "-3"});
  std::vector<std::string> big_hash = {"HSET", "hash:big"};
  for (int i = 0; i < 600; ++i) {  // > hash-max-*-entries (512)
    big_hash.push_back(absl::StrCat("field-", i));
    big_hash.push_back(absl::StrCat("value-", i));
  }
  c.push_back(big_hash);
  c.push_back({"HSET", "hash:longvalue", "f", std::string(200, 'v')});
  // Sets: intset, small strings, large strings, large integers.
  c.push_back({"SADD", "set:int", "1", "2", "3", "-5", "1000000"});
  c.push_back({"SADD", "set:small", "a", "b", "c"});
  std::vector<std::string> big_set = {"SADD", "set:big"};
  for (int i = 0; i < 600; ++i) big_set.push_back(absl::StrCat("member-", i));
  c.push_back(big_set);
  std::vector<std::string> big_intset = {"SADD", "set:bigint"};
  for (int i = 0; i < 1000; ++i) big_intset.push_back(std::to_string(i * 7));
  c.push_back(big_intset);
  // Sorted sets.
  c.push_back({"ZADD", "zset:small", "1", "a", "2.5", "b", "-3", "c", "+inf", "top"});
  std::vector<std::string> big_zset = {"ZADD", "zset:big"};
  for (int i = 0; i < 1000; ++i) {
    big_zset.push_back(absl::StrCat(i * 1.5));
    big_zset.push_back(absl::StrCat("member-", i));
  }
  c.push_back(big_zset);
  // Streams with consumer groups and pending (unacknowledged) entries.
  for (int i = 1; i <= 10; ++i) {
    c.push_back({"XADD", "stream:s", absl::StrCat(i, "-1"), "field", std::to_string(i)});
  }
  c.push_back({"XGROUP", "CREATE", "stream:s", "g1", "0"});
  c.push_back({"XGROUP", "CREATE", "stream:s", "g2", "$"});
  c.push_back({"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "stream:s", ">"});
  c.push_back({"XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "stream:s", ">"});
  c.push_back({"XACK", "stream:s", "g1", "1-1"});
  for (int i = 1; i <= 1000; ++i) {
    c.push_back({"XADD", "stream:big", absl::StrCat(i, "-0"), "n", std::to_string(i), "pad",
                 std::string(i % 50, 'x')});
  }
  c.push_back({"XDEL", "stream:big", "500-0"});
  c.push_back({"XGROUP", "CREATE", "stream:big", "workers", "0"});
  c.push_back(
      {"XREADGROUP", "GROUP", "workers", "w1", "COUNT", "100", "STREAMS", "stream:big", ">"});
  // Expiries, absolute and relative.
  c.push_back({"PEXPIRE", "str:small", "3600000"});
  c.push_back({"EXPIRE", "hash:big", "7200"});
  c.push_back({"PEXPIRE", "list:big", "5000000"});
  c.push_back({"EXPIREAT", "set:int", "4102444800"});  // 2100-01-01
  c.push_back({"SET", "str:ttl", "x", "PX", "86400000"});
  c.push_back({"PEXPIRE", "12345", "600000"});
  // Other dbs.
  c.push_back({"SELECT", "1"});
  c.push_back({"SET", "str:db1", "one"});
  c.push_back({"HSET", "hash:db1", "a", "1"});
  c.push_back({"SET", "777", "db1 integer key"});
  c.push_back({"SET", "str:db1ttl", "y", "EX", "1000"});
  c.push_back({"ZADD", "zset:db1", "1", "x"});
  c.push_back({"SELECT", "2"});
  c.push_back({"SADD", "set:db2", "p", "q"});
  c.push_back({"RPUSH", "list:db2", "1", "2"});
  c.push_back({"XADD", "stream:db2", "5-5", "k", "v"});
  c.push_back({"SET", "-1", "db2"});
  c.push_back({"SELECT", "0"});
  if (field_ttls) {
    // Hash fields with their own expiries, compact and large.
    c.push_back({"HSET", "hash:fttl", "a", "1", "b", "2", "c", "3"});
    c.push_back({"HPEXPIRE", "hash:fttl", "3600000", "FIELDS", "2", "a", "c"});
    std::vector<std::string> big = {"HSET", "hash:fttlbig"};
    for (int i = 0; i < 300; ++i) {
      big.push_back(absl::StrCat("field", i));
      big.push_back(std::string(i % 40 + 1, 'v'));
    }
    c.push_back(big);
    c.push_back(
        {"HEXPIREAT", "hash:fttlbig", "4102444800", "FIELDS", "3", "field1", "field7", "field999"});
  }
  testing::RunWithoutErrors(client, c);
  if (functions) {
    testing::RunWithoutErrors(
        client, {{"FUNCTION", "LOAD",
                  "#!lua name=reshardlib\n"
                  "redis.register_function('echo1', function(keys, args) return args[1] end)\n"
                  "redis.register_function('k1', function(keys, args) return keys[1] end)"}});
  }
}

// The three filters of the split: a regex, a glob, and the hash slots of
// every key the first two leave out (so that together they cover every key;
// keys of those slots that the others also match go to two targets).
struct SplitFilters {
  std::vector<FilterSpec> specs;
  std::vector<std::unique_ptr<engine::KeyFilter>> filters;
  std::vector<std::string> names = {"strlist", "hashzset", "slots"};
};

SplitFilters MakeFilters(RedisClient& source) {
  SplitFilters out;
  out.specs.push_back({FilterKind::kRegex, "^(str|list):"});
  out.specs.push_back({FilterKind::kGlob, "[hz]*"});
  std::set<uint16_t> slots;
  for (int db = 0; db < kDbCount; ++db) {
    absl::StatusOr<std::vector<std::string>> keys = source.Keys(db);
    EXPECT_TRUE(keys.ok()) << keys.status();
    if (!keys.ok()) continue;
    for (const std::string& key : *keys) {
      if (!absl::StartsWith(key, "str:") && !absl::StartsWith(key, "list:") &&
          !absl::StartsWith(key, "h") && !absl::StartsWith(key, "z")) {
        slots.insert(engine::KeyHashSlot(key));
      }
    }
  }
  std::vector<std::string> ranges;
  for (uint16_t slot : slots) ranges.push_back(std::to_string(slot));
  out.specs.push_back({FilterKind::kSlots, absl::StrJoin(ranges, ",")});
  for (const FilterSpec& spec : out.specs) {
    auto filter = engine::MakeKeyFilter(spec);
    EXPECT_TRUE(filter.ok()) << filter.status();
    out.filters.push_back(std::move(*filter));
  }
  return out;
}

// Every key of the source matches at least one filter.
void ExpectCovered(RedisClient& source, const SplitFilters& f) {
  for (int db = 0; db < kDbCount; ++db) {
    absl::StatusOr<std::vector<std::string>> keys = source.Keys(db);
    ASSERT_TRUE(keys.ok()) << keys.status();
    for (const std::string& key : *keys) {
      bool matched = false;
      for (const auto& filter : f.filters) matched = matched || filter->Matches(key);
      EXPECT_TRUE(matched) << "db " << db << " key " << key;
    }
  }
}

// FUNCTION LIST WITHCODE with each library's functions sorted (a server
// lists them in its hash table's order, which differs between processes).
std::string FunctionList(RedisClient& client) {
  absl::StatusOr<engine::RespValue> reply = client.CheckedCommand({"FUNCTION", "LIST", "WITHCODE"});
  EXPECT_TRUE(reply.ok()) << reply.status();
  if (!reply.ok()) return "";
  std::vector<std::string> libraries;
  for (const engine::RespValue& library : reply->elements) {
    std::string text;
    for (size_t i = 0; i + 1 < library.elements.size(); i += 2) {
      std::string value;
      if (library.elements[i].str == "functions") {
        std::vector<std::string> functions;
        for (const auto& function : library.elements[i + 1].elements) {
          functions.push_back(function.ToString());
        }
        std::sort(functions.begin(), functions.end());
        value = absl::StrJoin(functions, ";");
      } else {
        value = library.elements[i + 1].ToString();
      }
      absl::StrAppend(&text, library.elements[i].str, "=", value, "\n");
    }
    libraries.push_back(text);
  }
  std::sort(libraries.begin(), libraries.end());
  return absl::StrJoin(libraries, "----\n");
}

void CheckTargets(RedisClient& source, const SplitFilters& f, std::vector<RedisClient>& targets,
                  bool functions, std::vector<size_t>* keys_per_target) {
  std::vector<testing::ShardCheckTarget> check;
  for (size_t t = 0; t < targets.size(); ++t) {
    check.push_back({f.names[t], f.filters[t].get(), &targets[t]});
  }
  absl::StatusOr<testing::ShardCheckReport> report = CheckShards(source, check, kDbCount);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  *keys_per_target = report->keys_per_target;
  if (functions) {
    std::string want = FunctionList(source);
    EXPECT_TRUE(absl::StrContains(want, "reshardlib")) << want;
    for (size_t t = 0; t < targets.size(); ++t) {
      EXPECT_EQ(FunctionList(targets[t]), want) << "FUNCTION LIST on " << f.names[t];
    }
  }
}

class RdbVersionsTest : public ::testing::TestWithParam<ServerVersion> {
 protected:
  void SetUp() override {
    binary_ = FindServer(GetParam());
    if (binary_.empty()) {
      GTEST_SKIP() << GetParam().name << " server not found: " << GetParam().fetch_hint;
    }
  }

  std::unique_ptr<RedisServer> Start(const std::string& dir = "") {
    RedisServerOptions options;
    options.binary = binary_;
    options.dir = dir;
    options.extra_args = {"--rdbcompression", "yes"};
    options.extra_args.insert(options.extra_args.end(), GetParam().server_args.begin(),
                              GetParam().server_args.end());
    return testing::StartServer(options);
  }

  // A source of this version, filled, checked to be the expected version.
  std::unique_ptr<RedisServer> StartFilledSource() {
    std::unique_ptr<RedisServer> source = Start();
    if (source == nullptr) return nullptr;
    RedisClient client = Connect(*source);
    absl::StatusOr<std::string> version = client.InfoField("server", GetParam().version_field);
    EXPECT_TRUE(version.ok()) << version.status();
    EXPECT_TRUE(version.ok() && absl::StartsWith(*version, GetParam().version))
        << binary_ << " is " << version.value_or("?");
    FillRichDataset(client, GetParam().has_functions, GetParam().has_field_ttls);
    return source;
  }

  std::string binary_;
};

TEST_P(RdbVersionsTest, OfflineSplitOfTheSavedRdbLoadsIntoFreshServers) {
  std::unique_ptr<RedisServer> source = StartFilledSource();
  ASSERT_NE(source, nullptr);
  ASSERT_FALSE(HasFatalFailure());
  RedisClient source_client = Connect(*source);
  ASSERT_TRUE(source_client.CheckedCommand({"SAVE"}).ok());
  const std::string dump = source->dir() + "/dump.rdb";
  SplitFilters f = MakeFilters(source_client);
  ExpectCovered(source_client, f);

  absl::StatusOr<client::RdbInspection> inspection = client::InspectRdbFile(dump);
  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_EQ(inspection->version, GetParam().rdb_version);
  EXPECT_EQ(inspection->functions, GetParam().has_functions ? 1u : 0u);
  uint64_t source_keys = 0;
  for (int db = 0; db < kDbCount; ++db) {
    absl::StatusOr<std::vector<std::string>> keys = source_client.Keys(db);
    ASSERT_TRUE(keys.ok());
    source_keys += keys->size();
    EXPECT_EQ(inspection->keys_per_db[db], keys->size()) << "db " << db;
  }
  EXPECT_EQ(inspection->keys, source_keys);
  EXPECT_EQ(inspection->keys_with_ttl, 7u);
  EXPECT_EQ(inspection->keys, GetParam().has_field_ttls ? 37u : 35u);
  std::map<std::string, uint64_t> types;
  for (const auto& [name, stats] : inspection->types) types[name] = stats.keys;
  EXPECT_EQ(types, GetParam().types) << "compact and large encodings of every type";

  std::vector<RdbSplitTargetSpec> specs;
  for (size_t t = 0; t < f.specs.size(); ++t) specs.push_back({f.names[t], f.specs[t]});
  TempDir work("rdb_versions_test");
  absl::StatusOr<client::RdbSplitReport> report = client::SplitRdbFile(dump, specs, work / "split");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->version, GetParam().rdb_version);
  EXPECT_EQ(report->keys_read, source_keys);
  EXPECT_EQ(report->keys_unmatched, 0u);

  std::vector<std::unique_ptr<RedisServer>> servers;
  std::vector<RedisClient> targets;
  uint64_t written = 0;
  for (size_t t = 0; t < specs.size(); ++t) {
    std::string dir = work / specs[t].name;
    fs::create_directories(dir);
    fs::copy_file(report->targets[t].path, dir + "/dump.rdb");
    servers.push_back(Start(dir));
    ASSERT_NE(servers.back(), nullptr);
    targets.push_back(Connect(*servers.back()));
    written += report->targets[t].keys;
  }
  EXPECT_EQ(written, source_keys + report->keys_multi_matched);
  std::vector<size_t> keys_per_target;
  CheckTargets(source_client, f, targets, GetParam().has_functions, &keys_per_target);
  for (size_t t = 0; t < specs.size(); ++t) {
    EXPECT_EQ(keys_per_target[t], report->targets[t].keys) << specs[t].name;
    EXPECT_GT(keys_per_target[t], 0u) << specs[t].name;
  }
}

TEST_P(RdbVersionsTest, LiveJobIntoManagedReplicas) {
  std::unique_ptr<RedisServer> source = StartFilledSource();
  ASSERT_NE(source, nullptr);
  ASSERT_FALSE(HasFatalFailure());
  RedisClient source_client = Connect(*source);
  SplitFilters f = MakeFilters(source_client);
  ExpectCovered(source_client, f);

  std::vector<std::unique_ptr<RedisServer>> servers;
  engine::JobSpec spec;
  spec.source.address = source->address();
  for (size_t t = 0; t < f.specs.size(); ++t) {
    servers.push_back(Start());
    ASSERT_NE(servers.back(), nullptr);
    spec.targets.push_back(
        testing::MakeTarget(f.names[t], f.specs[t], testing::PickFreePort(), servers.back().get()));
  }
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok());
  engine::Job job("versions", spec);
  job.Start();
  JobStatus status = testing::WaitForState(job, JobState::kStreaming, absl::Seconds(40));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;

  // One marker per target, written after the snapshot: once a target has its
  // marker it has applied the snapshot and everything before the marker.
  std::vector<RedisClient> targets;
  std::vector<std::string> markers;
  for (size_t t = 0; t < servers.size(); ++t) {
    std::string marker;
    for (int n = 0; marker.empty(); ++n) {
      for (const char* prefix : {"str:marker", "hmarker", "{12345}marker"}) {
        std::string candidate = absl::StrCat(prefix, n);
        if (f.filters[t]->Matches(candidate)) {
          marker = candidate;
          break;
        }
      }
    }
    markers.push_back(marker);
    ASSERT_TRUE(source_client.CheckedCommand({"SET", marker, "1"}).ok());
    targets.push_back(Connect(*servers[t]));
    RedisClient& target = targets.back();
    absl::Status seen = target.WaitForKey(marker, absl::Seconds(30),
                                          absl::StrCat("marker ", marker, " on ", f.names[t]));
    ASSERT_TRUE(seen.ok()) << seen;
  }
  std::vector<size_t> keys_per_target;
  CheckTargets(source_client, f, targets, GetParam().has_functions, &keys_per_target);
  status = job.Snapshot();
  for (size_t t = 0; t < targets.size(); ++t) {
    // The RDB's keys plus the markers its filter selects.
    size_t markers_here = 0;
    for (const std::string& marker : markers) markers_here += f.filters[t]->Matches(marker);
    EXPECT_EQ(keys_per_target[t], status.targets[t].rdb_keys_kept + markers_here) << f.names[t];
  }
  job.Cancel();
}

INSTANTIATE_TEST_SUITE_P(Servers, RdbVersionsTest,
                         ::testing::Values(kRedis6, kRedis7, kValkey8, kRedis8, kValkey9),
                         [](const ::testing::TestParamInfo<ServerVersion>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace reshard
