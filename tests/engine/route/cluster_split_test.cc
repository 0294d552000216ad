#include "engine/route/cluster_split.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "engine/route/hash_slot.h"

namespace reshard::engine {
namespace {

using Commands = std::vector<std::vector<std::string>>;

absl::Status Split(std::vector<std::string_view> args, std::vector<ClusterUnit>* out, int db = 0) {
  return SplitCommandForCluster(CommandTable::Builtin(), args, db, 42, out);
}

TEST(ClusterSplitTest, KeyedCommandGoesToItsSlot) {
  std::vector<ClusterUnit> units;
  ASSERT_TRUE(Split({"SET", "user:1", "v"}, &units).ok());
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0].slot, KeyHashSlot("user:1"));
  EXPECT_EQ(units[0].commands, (Commands{{"SET", "user:1", "v"}}));
  EXPECT_EQ(units[0].offset, 42u);
}

TEST(ClusterSplitTest, PingIsDroppedFlushallGoesToEveryMaster) {
  std::vector<ClusterUnit> units;
  ASSERT_TRUE(Split({"PING"}, &units).ok());
  EXPECT_TRUE(units.empty());
  ASSERT_TRUE(Split({"FLUSHALL"}, &units).ok());
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0].slot, ClusterUnit::kEveryMaster);
}

TEST(ClusterSplitTest, MsetAcrossSlotsIsSplitPerSlotInOrder) {
  ASSERT_NE(KeyHashSlot("a"), KeyHashSlot("b"));
  std::vector<ClusterUnit> units;
  ASSERT_TRUE(Split({"MSETNX", "a", "1", "b", "2", "{a}x", "3"}, &units).ok());
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0].slot, KeyHashSlot("a"));
  EXPECT_EQ(units[0].commands, (Commands{{"MSET", "a", "1", "{a}x", "3"}}));
  EXPECT_EQ(units[1].slot, KeyHashSlot("b"));
  EXPECT_EQ(units[1].commands, (Commands{{"MSET", "b", "2"}}));
  units.clear();
  ASSERT_TRUE(Split({"DEL", "a", "b"}, &units).ok());
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[1].commands, (Commands{{"DEL", "b"}}));
}

TEST(ClusterSplitTest, CrossSlotWriteThatCannotBeSplitIsRefusedNamingIt) {
  std::vector<ClusterUnit> units;
  absl::Status status = Split({"RENAME", "a", "b"}, &units);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      status.message(),
      absl::StrCat("RENAME at stream offset 42 writes keys of slots ", KeyHashSlot("a"), " and ",
                   KeyHashSlot("b"), " ('a', 'b'): a cluster applies a command to one slot only"));
  EXPECT_TRUE(units.empty());
}

TEST(ClusterSplitTest, KeysOutsideDbZeroAreRefused) {
  std::vector<ClusterUnit> units;
  absl::Status status = Split({"SET", "k", "v"}, &units, /*db=*/3);
  EXPECT_EQ(status.message(),
            "SET at stream offset 42 writes key 'k' of db 3: a cluster has db 0 only");
}

TEST(ClusterSplitTest, TransactionIsOneMultiPerSlot) {
  std::vector<ClusterUnit> units;
  Commands transaction = {{"INCR", "{t}a"}, {"SET", "b", "1"}, {"RPUSH", "{t}l", "x"}};
  ASSERT_TRUE(SplitTransactionForCluster(CommandTable::Builtin(), transaction, 0, 7, &units).ok());
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0].slot, KeyHashSlot("t"));
  EXPECT_EQ(units[0].commands,
            (Commands{{"MULTI"}, {"INCR", "{t}a"}, {"RPUSH", "{t}l", "x"}, {"EXEC"}}));
  EXPECT_EQ(units[1].commands, (Commands{{"SET", "b", "1"}}));
  EXPECT_EQ(DescribeClusterUnit(units[0]), "MULTI (2 commands, stream offset 7)");
}

TEST(ClusterSplitTest, ASnapshotRebuildIsNamedByItsKey) {
  ClusterUnit unit{5, {{"MULTI"}, {"DEL", "big"}, {"SADD", "big", "a"}, {"EXEC"}}, 0, true};
  EXPECT_EQ(DescribeClusterUnit(unit),
            "the snapshot's 'big' rebuilt in parts (2 commands in a MULTI)");
  unit.snapshot_key = false;
  EXPECT_EQ(DescribeClusterUnit(unit), "MULTI (2 commands, stream offset 0)");
}

// A set of "aaa", "bbb", "ccc" as DUMP gives it: type, value, a footer
// (not checked).
std::string SetPayload() {
  return std::string(
             "\x02\x03\x03"
             "aaa\x03"
             "bbb\x03"
             "ccc") +
         std::string(10, '\0');
}

TEST(ClusterSplitTest, OversizedRestoresAreRebuiltInPartsSmallOnesLeftAlone) {
  ClusterUnit small{5, {{"RESTORE", "k", "0", SetPayload(), "REPLACE"}}, 9};
  ASSERT_TRUE(RebuildOversizedRestores(1000, &small).ok());
  EXPECT_EQ(small.commands.size(), 1u);
  EXPECT_EQ(small.commands[0][0], "RESTORE");

  // 24 bytes over a limit of 20: commands of at most 10 bytes of arguments.
  ClusterUnit big{5, {{"RESTORE", "k", "1700000000000", SetPayload(), "REPLACE", "ABSTTL"}}, 9};
  ASSERT_TRUE(RebuildOversizedRestores(20, &big).ok());
  EXPECT_EQ(big.commands,
            (std::vector<std::vector<std::string>>{{"MULTI"},
                                                   {"DEL", "k"},
                                                   {"SADD", "k", "aaa"},
                                                   {"SADD", "k", "bbb"},
                                                   {"SADD", "k", "ccc"},
                                                   {"PEXPIREAT", "k", "1700000000000"},
                                                   {"EXEC"}}));
  // Inside a transaction part; a relative TTL.
  ClusterUnit multi{
      5,
      {{"MULTI"}, {"SET", "x", "1"}, {"RESTORE", "k", "5000", SetPayload(), "REPLACE"}, {"EXEC"}},
      9};
  ASSERT_TRUE(RebuildOversizedRestores(20, &multi).ok());
  EXPECT_EQ(multi.commands, (std::vector<std::vector<std::string>>{{"MULTI"},
                                                                   {"SET", "x", "1"},
                                                                   {"DEL", "k"},
                                                                   {"SADD", "k", "aaa"},
                                                                   {"SADD", "k", "bbb"},
                                                                   {"SADD", "k", "ccc"},
                                                                   {"PEXPIRE", "k", "5000"},
                                                                   {"EXEC"}}));
  // A stream cannot be rebuilt: the error names the key and the limit.
  ClusterUnit stream{5, {{"RESTORE", "s", "0", "\x15" + std::string(30, 'x'), "REPLACE"}}, 9};
  absl::Status refused = RebuildOversizedRestores(20, &stream);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "RESTORE 's' of 31 bytes, over the masters' proto-max-bulk-len (20): key 's' (RDB type "
            "21, 20 bytes) cannot be rebuilt in parts: raise proto-max-bulk-len on the target");
}

}  // namespace
}  // namespace reshard::engine
