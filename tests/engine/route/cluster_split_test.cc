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

}  // namespace
}  // namespace reshard::engine
