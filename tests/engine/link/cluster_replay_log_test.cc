#include "engine/link/cluster_replay_log.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

ReplayUnit Unit(std::string key, int64_t start, int64_t end, size_t bytes = 10) {
  ReplayUnit unit;
  unit.unit.slot = 1;
  unit.unit.commands = {{"INCR", std::move(key)}};
  unit.start = start;
  unit.end = end;
  unit.idempotent = IsIdempotentClusterUnit(unit.unit);
  unit.bytes = bytes;
  return unit;
}

ReplayUnit Restore(std::string key, int64_t start, int64_t end) {
  ReplayUnit unit;
  unit.unit.slot = 1;
  unit.unit.commands = {{"RESTORE", std::move(key), "0", "payload", "REPLACE"}};
  unit.start = start;
  unit.end = end;
  unit.idempotent = IsIdempotentClusterUnit(unit.unit);
  return unit;
}

std::vector<std::string> Keys(const std::vector<ClusterUnit>& units) {
  std::vector<std::string> keys;
  for (const ClusterUnit& unit : units) keys.push_back(unit.commands[0][1]);
  return keys;
}

TEST(ClusterReplayLogTest, OnlyRestoreReplaceIsIdempotent) {
  EXPECT_TRUE(Restore("k", 0, 1).idempotent);
  EXPECT_FALSE(Unit("k", 0, 1).idempotent);
  ClusterUnit restore_without_replace{1, {{"RESTORE", "k", "0", "payload"}}, 0};
  EXPECT_FALSE(IsIdempotentClusterUnit(restore_without_replace));
  ClusterUnit multi{1, {{"MULTI"}, {"RESTORE", "k", "0", "p", "REPLACE"}, {"EXEC"}}, 0};
  EXPECT_FALSE(IsIdempotentClusterUnit(multi));
}

// The new master applied the old one's stream up to 150: what ended by then
// is held, what started at or after it is sent again, in order.
TEST(ClusterReplayLogTest, SplitsAtTheNewMastersOffset) {
  ClusterReplayLog log;
  log.Add(Unit("a", 100, 120));
  log.Add(Unit("b", 120, 150));
  log.Add(Unit("c", 150, 170));
  log.Add(Unit("d", 170, 190));
  absl::StatusOr<ClusterReplayLog::Resolution> resolution = log.Resolve(150, 190);
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->held, 2u);
  EXPECT_EQ(Keys(resolution->resend), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(log.size(), 0u);
}

// Units whose replies never came lie after the last ROLE reply: sent again
// when the new master is not past it, ambiguous when it is.
TEST(ClusterReplayLogTest, UnitsWithoutRepliesAreSentAgainOnlyWhenTheOffsetsDecide) {
  ClusterReplayLog log;
  log.Add(Unit("a", 100, 120));
  log.Add(Unit("b", 120, -1));
  log.Add(Unit("c", -1, -1));
  absl::StatusOr<ClusterReplayLog::Resolution> resolution = log.Resolve(120, 120);
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->held, 1u);
  EXPECT_EQ(Keys(resolution->resend), (std::vector<std::string>{"b", "c"}));

  log.Add(Unit("a", 100, 120));
  log.Add(Unit("b", 120, -1));
  resolution = log.Resolve(130, 120);
  ASSERT_FALSE(resolution.ok());
  EXPECT_EQ(resolution.status().message(),
            "cannot tell whether INCR 'b' (stream offset 0) reached the new master: it applied "
            "the old master's stream up to offset 130, and the unit lies between offsets 120 and "
            "(no reply) (sending it again could apply it twice)");
}

// A RESTORE ... REPLACE is sent again whenever it may be missing.
TEST(ClusterReplayLogTest, IdempotentUnitsAreSentAgainWhenInDoubt) {
  ClusterReplayLog log;
  log.Add(Restore("a", 100, 200));
  log.Add(Restore("b", 100, 200));
  absl::StatusOr<ClusterReplayLog::Resolution> resolution = log.Resolve(150, 200);
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->held, 0u);
  EXPECT_EQ(Keys(resolution->resend), (std::vector<std::string>{"a", "b"}));
}

TEST(ClusterReplayLogTest, DropsWhatTheReplicasHoldAndFailsForWhatItDroppedUnreplicated) {
  ClusterReplayLog log;
  log.Add(Unit("a", 100, 120, 10));
  log.Add(Unit("b", 120, 150, 10));
  log.Add(Unit("c", 150, 170, 10));
  log.DropReplicated(150);
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(log.bytes(), 10u);
  log.Add(Unit("d", 170, 190, 10));
  log.DropBeyond(10);  // "c" dropped before its replicas held it
  EXPECT_EQ(log.size(), 1u);
  absl::StatusOr<ClusterReplayLog::Resolution> resolution = log.Resolve(165, 190);
  ASSERT_FALSE(resolution.ok());
  EXPECT_NE(resolution.status().message().find("writes up to offset 170 were dropped"),
            std::string::npos)
      << resolution.status();

  log.Add(Unit("e", 190, 200, 10));
  resolution = log.Resolve(200, 200);
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->held, 1u);
}

TEST(ClusterReplayLogTest, AddAndDropReplicatedKeepsWhatAddThenDropWould) {
  // No replica (replicated = the master's offset): nothing is kept, and what
  // was dropped still counts at a failover.
  ClusterReplayLog log;
  log.AddAndDropReplicated({Unit("a", 100, 120), Unit("b", 120, 150)}, 150);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_FALSE(log.Resolve(140, 150).ok()) << "b (up to 150) was dropped, the new master has 140";
  // A unit without a reply stops the dropping there, as DropReplicated does.
  log.AddAndDropReplicated({Unit("c", 150, 160), Unit("d", 160, -1), Unit("e", 170, 180)}, 180);
  EXPECT_EQ(log.size(), 2u);                       // d and e
  EXPECT_EQ(log.bytes(), 2u * (4 + 16 + 1 + 16));  // "INCR", "d" / "e", 16 each
  // Replicas behind: kept until they hold it; the new master holds f.
  ClusterReplayLog behind;
  behind.AddAndDropReplicated({Unit("f", 100, 120), Unit("g", 120, 150)}, 130);
  EXPECT_EQ(behind.size(), 1u);
  absl::StatusOr<ClusterReplayLog::Resolution> resolution = behind.Resolve(120, 150);
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(Keys(resolution->resend), std::vector<std::string>{"g"});
}

}  // namespace
}  // namespace reshard::engine
