#include "engine/job/offset_map.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

TEST(OffsetMapTest, AnAckMapsToTheLastSourceOffsetItCovers) {
  OffsetMap map;
  map.Reset(/*source=*/1000, /*target=*/0);
  map.Record(1100, 40);  // 40 target bytes for source up to 1100
  map.Record(1200, 40);  // nothing for this target in 1100..1200
  map.Record(1300, 90);
  EXPECT_EQ(map.SourceOffsetFor(0), 1000u);
  EXPECT_EQ(map.SourceOffsetFor(39), 1000u);
  EXPECT_EQ(map.SourceOffsetFor(40), 1200u);
  EXPECT_EQ(map.SourceOffsetFor(89), 1200u);
  EXPECT_EQ(map.SourceOffsetFor(90), 1300u);
  EXPECT_EQ(map.SourceOffsetFor(500), 1300u);
}

TEST(OffsetMapTest, BytesWithoutSourceProgressNeedTheirAckToCount) {
  OffsetMap map;
  map.Reset(1000, 0);
  map.Record(1100, 40);
  map.Record(1100, 54);  // a PING to the target: no new source offset
  EXPECT_EQ(map.SourceOffsetFor(40), 1100u);
  map.Record(1200, 54);  // source moved, nothing for the target
  EXPECT_EQ(map.SourceOffsetFor(40), 1100u) << "an ack before the PING is not past 1100";
  EXPECT_EQ(map.SourceOffsetFor(54), 1200u);
}

TEST(OffsetMapTest, NothingBelowTheFirstEntry) {
  OffsetMap map;
  map.Reset(5000, 100);
  EXPECT_EQ(map.SourceOffsetFor(99), 0u);
  EXPECT_EQ(map.SourceOffsetFor(100), 5000u);
}

TEST(OffsetMapTest, MergingEntriesOnlyEverUnderstates) {
  OffsetMap map;
  map.Reset(0, 0);
  for (uint64_t i = 1; i <= 3 * OffsetMap::kMaxEntries; ++i) map.Record(i * 10, i);
  EXPECT_LE(map.size(), OffsetMap::kMaxEntries + 1);
  for (uint64_t acked = 0; acked <= 3 * OffsetMap::kMaxEntries; acked += 97) {
    OffsetMap copy = map;
    uint64_t source = copy.SourceOffsetFor(acked);
    EXPECT_LE(source, acked * 10) << acked;
  }
  EXPECT_EQ(map.SourceOffsetFor(3 * OffsetMap::kMaxEntries), 30 * OffsetMap::kMaxEntries);
}

}  // namespace
}  // namespace reshard::engine
