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

// The snapshot offset falls before a SELECT (or a PING) of the source's
// stream, which is never held: the first command kept starts after it and
// must still begin with SELECT, as must every one until bytes are kept (the
// SELECT of a dropped command never reaches the target).
TEST(HeldStreamTest, TheFirstCommandKeptBeginsWithSelectEvenPastTheSnapshotOffset) {
  TempDir dir("held");
  HeldStream held({.dir = dir.path(), .name = "h"});
  ASSERT_TRUE(held.Add(100, "a;").ok());
  held.SetSnapshotOffset(300);
  EXPECT_TRUE(held.NeedsSelect(280));
  ASSERT_TRUE(held.Add(300, "SELECT 1;b;").ok());  // dropped: the snapshot has it
  // [300, 310) is a SELECT of the source's stream.
  EXPECT_TRUE(held.NeedsSelect(310)) << "nothing is kept yet";
  ASSERT_TRUE(held.Add(320, "").ok());  // a command for other targets only
  EXPECT_TRUE(held.NeedsSelect(320)) << "nothing is kept yet";
  ASSERT_TRUE(held.Add(330, "SELECT 1;c;").ok());
  EXPECT_FALSE(held.NeedsSelect(330));
  EXPECT_EQ(All(held.bytes()), "SELECT 1;c;");
}

TEST(HeldStreamTest, BytesKeptFromBeforeTheSnapshotOffsetWasKnownCount) {
  TempDir dir("held");
  HeldStream held({.dir = dir.path(), .name = "h"});
  ASSERT_TRUE(held.Add(100, "a;").ok());
  held.SetSnapshotOffset(100);
  EXPECT_TRUE(held.NeedsSelect(110)) << "everything held was dropped";
  ASSERT_TRUE(held.Add(120, "b;").ok());
  EXPECT_FALSE(held.NeedsSelect(120));

  HeldStream kept({.dir = dir.path(), .name = "k"});
  ASSERT_TRUE(kept.Add(100, "a;").ok());
  ASSERT_TRUE(kept.Add(130, "b;").ok());
  kept.SetSnapshotOffset(110);
  EXPECT_FALSE(kept.NeedsSelect(130)) << "b; was held with its SELECT and is kept";
  EXPECT_EQ(All(kept.bytes()), "b;");
}

}  // namespace
}  // namespace reshard::engine
