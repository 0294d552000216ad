// `reshardctl rdb inspect|split|plan` on the real RDB files of
// tests/fixtures/rdb (MANIFEST.md gives the expected counts): exact reports,
// splits that re-read to a partition of the input with byte-identical values,
// corrupt input that fails naming the offset and leaves no file behind.

#include "client/rdb_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "client/rdb_inspect.h"
#include "client/rdb_split.h"
#include "engine/io/file_byte_source.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_reader.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/temp_dir.h"

namespace reshard::client {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string Fixture(const std::string& name) {
  return std::string(RESHARD_FIXTURES_DIR) + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun RunArgs(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunRdb(args, out, err);
  return {code, out.str(), err.str()};
}

// A fresh directory under the test's temp dir.
using reshard::testing::TempDir;

// (db, key) -> (type, raw value bytes), plus the global records, of one RDB.
struct RdbContents : engine::RdbHandler {
  std::map<std::pair<int, std::string>, std::pair<int, std::string>> keys;
  std::vector<std::string> globals;
  std::pair<int, std::string>* current = nullptr;
  bool ended = false;

  void OnHeader(int, std::string_view) override {}
  void OnAux(std::string_view, std::string_view, std::string_view) override {}
  void OnGlobal(uint8_t, std::string_view raw) override { globals.emplace_back(raw); }
  void OnSelectDb(int) override {}
  bool OnEntryBegin(const engine::RdbEntry& e) override {
    auto [it, inserted] = keys.try_emplace({e.db, std::string(e.key)}, e.type, "");
    EXPECT_TRUE(inserted) << "key twice: " << e.key;
    current = &it->second;
    return true;
  }
  void OnValueChunk(std::string_view chunk) override { current->second.append(chunk); }
  void OnEntryEnd() override {}
  void OnEnd() override { ended = true; }
};

RdbContents ReadContents(const std::string& path) {
  RdbContents contents;
  auto source = engine::FileByteSource::Open(path);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return contents;
  engine::RdbReader reader(source->get(), &contents);
  absl::Status status = engine::RunRdbReaderSync(reader);
  EXPECT_TRUE(status.ok()) << path << ": " << status;
  EXPECT_TRUE(contents.ended);
  return contents;
}

std::string WriteSpec(const TempDir& dir, const std::string& targets_json) {
  std::string path = dir / "spec.json";
  WriteFile(path, R"({"source":{"address":"127.0.0.1:6379"},"targets":[)" + targets_json + "]}");
  return path;
}

// Three filters that partition every non-empty key: a-m, n-z, anything else.
constexpr char kPartition[] =
    R"({"name":"am","filter":{"regex":"^[a-m]"},"listen":"127.0.0.1:7001"},)"
    R"({"name":"nz","filter":{"glob":"[n-z]*"},"listen":"127.0.0.1:7002"},)"
    R"({"name":"rest","filter":{"regex":"^[^a-z]"},"listen":"127.0.0.1:7003"})";

// ---------------------------------------------------------------- inspect

TEST(RdbTypeNameTest, NamesEveryType) {
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeString, 10), "string");
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeListQuicklist2, 10), "list-quicklist2");
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeHashListpack, 10), "hash-listpack");
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeZsetListpack, 10), "zset-listpack");
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeSetIntset, 10), "set-intset");
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeStreamListpacks2, 10), "stream-v2");
  EXPECT_EQ(RdbTypeName(engine::rdb::kTypeModule2, 9), "module2");
  EXPECT_EQ(RdbTypeName(22, 12), "hash-metadata-pre-ga");
  EXPECT_EQ(RdbTypeName(22, 80), "hash2");
  EXPECT_EQ(RdbTypeName(8, 10), "type-8");
  EXPECT_EQ(RdbTypeName(200, 10), "type-200");
}

TEST(BiggestKeysTest, KeepsTheLargestFirstSeenOnTies) {
  BiggestKeys biggest(3);
  for (auto [key, bytes] : std::vector<std::pair<std::string, uint64_t>>{
           {"a", 5}, {"b", 9}, {"c", 1}, {"d", 9}, {"e", 7}, {"f", 9}}) {
    biggest.Offer(RdbKeyInfo{0, key, "string", bytes, -1});
  }
  std::vector<std::string> keys;
  for (const RdbKeyInfo& k : biggest.Sorted()) keys.push_back(k.key);
  EXPECT_THAT(keys, ElementsAre("b", "d", "f"));
  EXPECT_TRUE(BiggestKeys(0).Sorted().empty());
}

TEST(RdbInspectTest, ListpackBugHas237KeysIn3DbsWithEvery70Encoding) {
  absl::StatusOr<RdbInspection> r = InspectRdbFile(Fixture("replicator/listpack-bug.rdb"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 10);
  EXPECT_EQ(r->magic, "REDIS0010");
  EXPECT_EQ(r->file_bytes, fs::file_size(Fixture("replicator/listpack-bug.rdb")));
  EXPECT_EQ(r->keys, 237u);
  EXPECT_EQ(r->keys_with_ttl, 0u);
  EXPECT_EQ(r->functions, 3u);
  EXPECT_EQ(r->module_aux, 0u);
  EXPECT_THAT(r->keys_per_db, ElementsAre(Pair(0, 227u), Pair(1, 9u), Pair(2, 1u)));
  std::map<std::string, uint64_t> types;
  uint64_t value_bytes = 0;
  for (const auto& [name, stats] : r->types) {
    types[name] = stats.keys;
    value_bytes += stats.value_bytes;
  }
  EXPECT_EQ(types, (std::map<std::string, uint64_t>{{"string", 65},
                                                    {"set", 11},
                                                    {"hash", 3},
                                                    {"zset2", 2},
                                                    {"set-intset", 7},
                                                    {"hash-listpack", 108},
                                                    {"zset-listpack", 14},
                                                    {"list-quicklist2", 22},
                                                    {"stream-v2", 5}}));
  EXPECT_EQ(value_bytes, r->value_bytes);
  EXPECT_EQ(r->value_bytes, 254517u);
  EXPECT_EQ(r->types["hash"].value_bytes, 102264u);
  ASSERT_EQ(r->biggest.size(), 10u);
  EXPECT_EQ(r->biggest[0].key, "force_dictionary");
  EXPECT_EQ(r->biggest[0].type, "hash");
  EXPECT_EQ(r->biggest[0].bytes, 102002u);
  EXPECT_EQ(r->biggest[0].db, 0);
  EXPECT_EQ(r->biggest[1].key, "force_linkedlist");
  EXPECT_EQ(r->biggest[1].bytes, 51807u);
  for (size_t i = 1; i < r->biggest.size(); ++i) {
    EXPECT_GE(r->biggest[i - 1].bytes, r->biggest[i].bytes);
  }
  std::map<std::string, std::string> aux(r->aux.begin(), r->aux.end());
  EXPECT_EQ(aux["redis-ver"], "7.0.0");
  EXPECT_EQ(aux["ctime"], "1651376014");
  EXPECT_EQ(aux["used-mem"], "2870144");
  EXPECT_EQ(r->aux.size(), 8u);
}

TEST(RdbInspectTest, CountsTtlsModulesValkeyTypesAndLargeFiles) {
  absl::StatusOr<RdbInspection> memory = InspectRdbFile(Fixture("hdt3213/memory.rdb"));
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->keys, 7u);
  EXPECT_EQ(memory->keys_with_ttl, 1u);
  EXPECT_EQ(memory->types["string"].keys, 3u);
  EXPECT_EQ(memory->types["list-quicklist"].keys, 1u);

  absl::StatusOr<RdbInspection> module = InspectRdbFile(Fixture("replicator/dump-module-2.rdb"));
  ASSERT_TRUE(module.ok()) << module.status();
  EXPECT_EQ(module->keys, 1u);
  EXPECT_EQ(module->types["module2"].keys, 1u);

  absl::StatusOr<RdbInspection> valkey =
      InspectRdbFile(Fixture("hdt3213/valkey_hash2_with_hfe.rdb"));
  ASSERT_TRUE(valkey.ok()) << valkey.status();
  EXPECT_EQ(valkey->version, 80);
  EXPECT_EQ(valkey->magic, "VALKEY080");
  EXPECT_EQ(valkey->types["hash2"].keys, 1u);

  absl::StatusOr<RdbInspection> big = InspectRdbFile(Fixture("replicator/dumpV8.rdb"), 3);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->keys, 92499u);
  EXPECT_EQ(big->keys_with_ttl, 2u);
  EXPECT_EQ(big->types["zset-ziplist"].keys, 92478u);
  EXPECT_EQ(big->types["string"].keys, 16u);
  EXPECT_EQ(big->biggest.size(), 3u);

  absl::StatusOr<RdbInspection> dbs = InspectRdbFile(Fixture("replicator/dumpV6.rdb"));
  ASSERT_TRUE(dbs.ok()) << dbs.status();
  EXPECT_EQ(dbs->keys, 132u);
  EXPECT_EQ(dbs->types["hash-ziplist"].keys, 101u);
  EXPECT_EQ(dbs->keys_per_db.size(), 2u);
}

TEST(RdbCommandsTest, InspectPrintsATableAndValidJson) {
  CliRun table = RunArgs({"inspect", Fixture("replicator/listpack-bug.rdb")});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.err, "");
  EXPECT_THAT(table.out, HasSubstr("rdb version:       10 (REDIS0010)\n"));
  EXPECT_THAT(table.out, HasSubstr("keys:              237 (with ttl: 0)\n"));
  EXPECT_THAT(table.out, HasSubstr("aux redis-ver      7.0.0\n"));
  EXPECT_THAT(table.out, HasSubstr("db 1               9 keys\n"));
  EXPECT_THAT(table.out, HasSubstr("hash-listpack                   108          32435\n"));
  EXPECT_THAT(table.out, HasSubstr("0    hash                       102002  force_dictionary\n"));

  CliRun json =
      RunArgs({"inspect", Fixture("replicator/listpack-bug.rdb"), "-o", "json", "--top", "2"});
  ASSERT_EQ(json.code, 0) << json.err;
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  const auto& f = parsed.fields();
  EXPECT_EQ(f.at("version").number_value(), 10);
  EXPECT_EQ(f.at("magic").string_value(), "REDIS0010");
  EXPECT_EQ(f.at("keys").number_value(), 237);
  EXPECT_EQ(f.at("functions").number_value(), 3);
  EXPECT_EQ(f.at("dbs").list_value().values_size(), 3);
  EXPECT_EQ(f.at("types").list_value().values_size(), 9);
  const auto& biggest = f.at("biggest_keys").list_value();
  ASSERT_EQ(biggest.values_size(), 2);
  EXPECT_EQ(biggest.values(0).struct_value().fields().at("key").string_value(), "force_dictionary");
  EXPECT_EQ(biggest.values(1).struct_value().fields().at("bytes").number_value(), 51807);
}

TEST(RdbCommandsTest, JsonEscapesQuotesBackslashesAndHighBytes) {
  TempDir dir("rdb_commands_test");
  // A filter with a quote and a backslash, a target named in UTF-8 "é".
  std::string spec = WriteSpec(dir, R"({"name":"q","filter":{"regex":"^\"\\\\x"}},)"
                                    R"({"name":"\u00e9","filter":{"prefix":"e"}})");
  CliRun plan = RunArgs({"plan", Fixture("librdb/multiple_dbs.rdb"), "-f", spec, "-o", "json"});
  ASSERT_EQ(plan.code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr(R"("filter":"regex:^\"\\\\x")"));
  EXPECT_THAT(plan.out, HasSubstr(R"("name":"\u00c3\u00a9","filter":"prefix:e")"));
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(plan.out, &parsed).ok()) << plan.out;
  const auto& targets = parsed.fields().at("targets").list_value();
  EXPECT_EQ(targets.values(0).struct_value().fields().at("filter").string_value(),
            "regex:^\"\\\\x");
  EXPECT_EQ(parsed.fields().at("keys_unmatched").number_value(), 3);
}

TEST(RdbCommandsTest, InspectOfCorruptOrMissingFilesFails) {
  CliRun corrupt = RunArgs({"inspect", Fixture("librdb/invalid_chksum_v8.rdb")});
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_EQ(corrupt.out, "");
  EXPECT_EQ(corrupt.err,
            "reshardctl rdb: DATA_LOSS: rdb offset 201: CRC64 trailer: CRC64 mismatch: trailer "
            "says b477e446e98e5402, data hashes to a609bb6465990fe1\n");
  CliRun missing = RunArgs({"inspect", "/nonexistent/dump.rdb"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("reshardctl rdb: NOT_FOUND: "));
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/dump.rdb"));
}

TEST(RdbCommandsTest, UsageErrorsExitWith2) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate", "x.rdb"},
                                             {"inspect"},
                                             {"inspect", "a.rdb", "b.rdb"},
                                             {"inspect", "a.rdb", "-o", "yaml"},
                                             {"inspect", "a.rdb", "--top", "many"},
                                             {"split", "a.rdb", "--out", "/tmp/x"},
                                             {"split", "a.rdb", "-f", "spec.json"},
                                             {"plan", "a.rdb"},
                                             {"plan", "a.rdb", "-f"},
                                             {"plan", "a.rdb", "--bogus"}}) {
    CliRun run = RunArgs(args);
    EXPECT_EQ(run.code, 2) << args.size();
    EXPECT_THAT(run.err, HasSubstr("usage: reshardctl rdb inspect FILE"));
    EXPECT_EQ(run.out, "");
  }
  EXPECT_THAT(RunArgs({"plan", "a.rdb"}).err, HasSubstr("plan needs -f SPEC.json"));
  EXPECT_THAT(RunArgs({"split", "a.rdb", "-f", "s"}).err, HasSubstr("split needs --out DIR"));
}

// ---------------------------------------------------------------- split / plan

TEST(RdbCommandsTest, SplitPartitionsTheInputWithIdenticalValues) {
  TempDir dir("rdb_commands_test");
  std::string spec = WriteSpec(dir, kPartition);
  std::string out = dir / "out";
  CliRun split = RunArgs(
      {"split", Fixture("replicator/listpack-bug.rdb"), "-f", spec, "--out", out, "-o", "json"});
  ASSERT_EQ(split.code, 0) << split.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(split.out, &report).ok()) << split.out;
  EXPECT_EQ(report.fields().at("keys_read").number_value(), 237);
  EXPECT_EQ(report.fields().at("keys_unmatched").number_value(), 0);
  EXPECT_EQ(report.fields().at("keys_multi_matched").number_value(), 0);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_THAT(files, ElementsAre("am.rdb", "nz.rdb", "rest.rdb"));

  RdbContents input = ReadContents(Fixture("replicator/listpack-bug.rdb"));
  ASSERT_EQ(input.keys.size(), 237u);
  ASSERT_EQ(input.globals.size(), 3u);  // FUNCTION2 records
  std::map<std::pair<int, std::string>, std::pair<int, std::string>> merged;
  uint64_t reported_keys = 0;
  const auto& targets = report.fields().at("targets").list_value();
  ASSERT_EQ(targets.values_size(), 3);
  for (int t = 0; t < 3; ++t) {
    const auto& fields = targets.values(t).struct_value().fields();
    std::string path = fields.at("path").string_value();
    EXPECT_EQ(fields.at("bytes").number_value(), fs::file_size(path)) << path;
    RdbContents part = ReadContents(path);
    EXPECT_EQ(part.globals, input.globals) << "every target gets the functions";
    EXPECT_EQ(fields.at("keys").number_value(), part.keys.size());
    reported_keys += part.keys.size();
    EXPECT_GT(part.keys.size(), 0u) << path;
    for (auto& [key, value] : part.keys) {
      EXPECT_TRUE(merged.emplace(key, value).second) << "key on two targets: " << key.second;
    }
  }
  EXPECT_EQ(reported_keys, 237u);
  EXPECT_TRUE(merged == input.keys) << "union of the targets differs from the input";

  // The table form of the same split.
  CliRun table =
      RunArgs({"split", Fixture("replicator/listpack-bug.rdb"), "-f", spec, "--out", out});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out,
              HasSubstr("keys read: 237, unmatched (written nowhere): 0, matched several "
                        "targets: 0\n"));
  EXPECT_THAT(table.out, HasSubstr(out + "/am.rdb"));
}

TEST(RdbCommandsTest, PlanPredictsTheSplitAndWritesNothing) {
  TempDir dir("rdb_commands_test");
  // Overlapping and incomplete filters: some keys go nowhere, some twice.
  std::string spec = WriteSpec(dir, R"({"name":"a","filter":{"regex":"^[a-h]"}},)"
                                    R"({"name":"b","filter":{"glob":"[i-z]*"}},)"
                                    R"({"name":"c","filter":{"slots":"0-8191"}})");
  absl::StatusOr<std::vector<RdbSplitTargetSpec>> targets = SplitTargetsFromProto([&] {
    v1::JobSpec s;
    for (auto [name, kind] :
         std::vector<std::pair<std::string, int>>{{"a", 0}, {"b", 1}, {"c", 2}}) {
      v1::TargetSpec* t = s.add_targets();
      t->set_name(name);
      if (kind == 0) t->mutable_filter()->set_regex("^[a-h]");
      if (kind == 1) t->mutable_filter()->set_glob("[i-z]*");
      if (kind == 2) t->mutable_filter()->set_slots("0-8191");
    }
    return s;
  }());
  ASSERT_TRUE(targets.ok()) << targets.status();
  absl::StatusOr<RdbSplitReport> plan =
      PlanRdbFile(Fixture("replicator/listpack-bug.rdb"), *targets, 3);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(dir.Files(), std::vector<std::string>{"spec.json"});
  absl::StatusOr<RdbSplitReport> split =
      SplitRdbFile(Fixture("replicator/listpack-bug.rdb"), *targets, dir / "out", 3);
  ASSERT_TRUE(split.ok()) << split.status();

  EXPECT_EQ(plan->keys_read, 237u);
  EXPECT_EQ(plan->keys_unmatched, 60u);
  EXPECT_EQ(plan->keys_multi_matched, 61u);
  EXPECT_EQ(split->keys_unmatched, plan->keys_unmatched);
  EXPECT_EQ(split->keys_multi_matched, plan->keys_multi_matched);
  ASSERT_EQ(plan->targets.size(), 3u);
  const uint64_t want_keys[] = {32, 93, 113};
  const uint64_t want_bytes[] = {212334, 35884, 151499};
  for (size_t t = 0; t < 3; ++t) {
    EXPECT_EQ(plan->targets[t].keys, want_keys[t]);
    EXPECT_EQ(plan->targets[t].bytes, want_bytes[t]);
    EXPECT_EQ(split->targets[t].keys, want_keys[t]);
    EXPECT_EQ(split->targets[t].bytes, want_bytes[t]);
    EXPECT_EQ(fs::file_size(split->targets[t].path), want_bytes[t]);
    EXPECT_EQ(plan->targets[t].path, "");
    ASSERT_EQ(plan->targets[t].biggest.size(), 3u);
  }
  EXPECT_EQ(plan->targets[0].filter, "regex:^[a-h]");
  EXPECT_EQ(plan->targets[0].biggest[0].key, "force_dictionary");
  EXPECT_EQ(plan->targets[1].biggest[0].key, "zipmap_with_big_values");
  EXPECT_EQ(plan->targets[1].biggest[0].bytes, 20870u);
  EXPECT_EQ(plan->targets[2].biggest[1].key, "zipmap_with_big_values");

  CliRun text = RunArgs({"plan", Fixture("replicator/listpack-bug.rdb"), "-f", spec, "--top", "1"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("keys read: 237, unmatched (written nowhere): 60, matched "
                                  "several targets: 61\n"));
  EXPECT_THAT(text.out, HasSubstr("biggest keys of b:\n"));
  EXPECT_THAT(text.out, HasSubstr("20870  zipmap_with_big_values\n"));
}

TEST(RdbCommandsTest, CorruptInputLeavesNoFileBehind) {
  TempDir dir("rdb_commands_test");
  std::string spec = WriteSpec(dir, kPartition);
  std::string out = dir / "out";
  fs::create_directories(out);
  // A file from an earlier split must survive a failed one untouched.
  WriteFile(out + "/am.rdb", "earlier");
  CliRun run =
      RunArgs({"split", Fixture("librdb/invalid_chksum_v8.rdb"), "-f", spec, "--out", out});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "reshardctl rdb: DATA_LOSS: rdb offset 201: CRC64 trailer: CRC64 mismatch: trailer "
            "says b477e446e98e5402, data hashes to a609bb6465990fe1\n");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path().filename());
  EXPECT_THAT(files, ElementsAre("am.rdb"));
  EXPECT_EQ(ReadFile(out + "/am.rdb"), "earlier");

  // Truncated in the middle of a value.
  std::string whole = ReadFile(Fixture("replicator/listpack-bug.rdb"));
  WriteFile(dir / "truncated.rdb", whole.substr(0, 150000));
  CliRun truncated = RunArgs({"split", dir / "truncated.rdb", "-f", spec, "--out", dir / "out2"});
  EXPECT_EQ(truncated.code, 1);
  EXPECT_THAT(truncated.err, HasSubstr("reshardctl rdb: DATA_LOSS: rdb offset "));
  EXPECT_THAT(truncated.err, HasSubstr("truncated"));
  EXPECT_TRUE(fs::is_empty(dir / "out2"));

  // A flipped byte inside a value: the checksum catches it at the end.
  std::string flipped = whole;
  flipped[100000] ^= 0x55;
  WriteFile(dir / "flipped.rdb", flipped);
  CliRun bad = RunArgs({"split", dir / "flipped.rdb", "-f", spec, "--out", dir / "out3"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("DATA_LOSS: rdb offset "));
  EXPECT_TRUE(fs::is_empty(dir / "out3"));
}

TEST(RdbCommandsTest, BadSpecsNameTheField) {
  TempDir dir("rdb_commands_test");
  auto fails = [&](const std::string& targets) {
    CliRun run =
        RunArgs({"plan", Fixture("librdb/multiple_dbs.rdb"), "-f", WriteSpec(dir, targets)});
    EXPECT_EQ(run.code, 1) << targets;
    return run.err;
  };
  EXPECT_THAT(fails(R"({"name":"a","filter":{"regex":"("}})"),
              HasSubstr("reshardctl rdb: INVALID_ARGUMENT: targets[0].filter.regex: "));
  EXPECT_EQ(fails(R"({"name":"a","filter":{"prefix":"x"}},{"name":"a","filter":{"prefix":"y"}})"),
            "reshardctl rdb: INVALID_ARGUMENT: targets[1].name: duplicate name 'a'\n");
  EXPECT_EQ(fails(R"({"name":"../x","filter":{"prefix":"x"}})"),
            "reshardctl rdb: INVALID_ARGUMENT: targets[0].name: '../x' cannot be a file name\n");
  EXPECT_EQ(fails(R"({"name":"a"})"),
            "reshardctl rdb: INVALID_ARGUMENT: targets[0].filter: required: set one of regex, "
            "prefix, glob, slots\n");
  EXPECT_EQ(fails(R"({"filter":{"prefix":"x"}})"),
            "reshardctl rdb: INVALID_ARGUMENT: targets[0].name: required\n");
  EXPECT_EQ(fails(R"({"name":"a","filter":{"fuzzy":"x"}})"),
            "reshardctl rdb: INVALID_ARGUMENT: targets[0].filter.fuzzy: unknown field; a filter "
            "is one of regex, prefix, glob, slots\n");
  EXPECT_EQ(fails(""), "reshardctl rdb: INVALID_ARGUMENT: targets: at least one required\n");
  CliRun missing = RunArgs({"plan", Fixture("librdb/multiple_dbs.rdb"), "-f", dir / "none.json"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "reshardctl rdb: NOT_FOUND: cannot read spec " + dir / "none.json" + "\n");
}

TEST(RdbCommandsTest, TheBuiltBinaryRunsTheSameCommands) {
  const std::string binary = std::string(RESHARD_BINARY_DIR) + "/client/reshardctl";
  if (!fs::exists(binary)) GTEST_SKIP() << binary << " is not built (ninja reshardctl)";
  TempDir dir("rdb_commands_test");
  std::string command = binary + " rdb inspect " + Fixture("replicator/listpack-bug.rdb") +
                        " -o json 2>" + (dir / "err");
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(dir / "err");
  EXPECT_THAT(out, HasSubstr("\"keys\":237,"));

  command = binary + " rdb inspect " + Fixture("librdb/invalid_chksum_v8.rdb") + " 2>" +
            (dir / "err") + " >/dev/null";
  status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(ReadFile(dir / "err"), HasSubstr("CRC64 mismatch"));
}

}  // namespace
}  // namespace reshard::client
