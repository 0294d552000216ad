#include "engine/job/held_stream.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace reshard::engine {
namespace {

using ::reshard::testing::TempDir;

std::string All(Spool& spool) {
  std::string out;
  while (!spool.empty()) {
    auto front = spool.Front(1 << 20);
    EXPECT_TRUE(front.ok());
    out.append(*front);
    spool.Pop(front->size());
  }
  return out;
}

TEST(HeldStreamTest, DropsWhatTheSnapshotAlreadyHas) {
  TempDir dir("held");
  HeldStream held({.dir = dir.path(), .name = "h", .memory_bytes = 4});
  ASSERT_TRUE(held.Add(110, "a;").ok());
  ASSERT_TRUE(held.Add(120, "").ok());
  ASSERT_TRUE(held.Add(130, "b;").ok());
  ASSERT_TRUE(held.Add(140, "c;").ok());
  EXPECT_TRUE(held.NeedsSelect(130));
  held.SetSnapshotOffset(130);  // the snapshot has everything up to 130
  EXPECT_TRUE(held.NeedsSelect(130)) << "the first command kept starts at 130";
  EXPECT_FALSE(held.NeedsSelect(140));
  ASSERT_TRUE(held.Add(150, "d;").ok());
  EXPECT_EQ(held.last_source_end(), 150u);
  EXPECT_EQ(All(held.bytes()), "c;d;");
}

TEST(HeldStreamTest, CommandsStillAtOrBeforeTheSnapshotOffsetAreDropped) {
  TempDir dir("held");
  HeldStream held({.dir = dir.path(), .name = "h"});
  ASSERT_TRUE(held.Add(100, "a;").ok());
  held.SetSnapshotOffset(300);  // the source is ahead of what the job has read
  ASSERT_TRUE(held.Add(200, "b;").ok());
  ASSERT_TRUE(held.Add(300, "c;").ok());
  ASSERT_TRUE(held.Add(310, "d;").ok());
  EXPECT_EQ(All(held.bytes()), "d;");
}

}  // namespace
}  // namespace reshard::engine
