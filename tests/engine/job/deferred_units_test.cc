#include "engine/job/deferred_units.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace reshard::engine {
namespace {

StreamUnit Unit(uint64_t start, std::vector<DbKey> keys, bool barrier = false) {
  StreamUnit unit;
  unit.start = start;
  unit.end = start + 10;
  unit.barrier = barrier;
  unit.wire = std::string(10, 'x');
  for (const DbKey& key : keys) unit.key_hashes.push_back(KeyHash(key.ref()));
  return unit;
}

bool Waits(const DeferredUnits& units, std::vector<KeyRef> keys) { return units.MustWait(keys); }

TEST(DeferredUnitsTest, AUnitWaitsOnlyBehindOneTouchingAKeyOfItsOwn) {
  DeferredUnits units;
  EXPECT_FALSE(Waits(units, {{0, "a"}}));
  units.Push(Unit(100, {{0, "a"}, {0, "b"}}));
  units.Push(Unit(110, {{0, "b"}, {1, "c"}}));
  EXPECT_EQ(units.size(), 2u);
  EXPECT_EQ(units.bytes(), 20u);
  EXPECT_TRUE(Waits(units, {{0, "a"}}));
  EXPECT_TRUE(Waits(units, {{9, "x"}, {1, "c"}}));
  EXPECT_FALSE(Waits(units, {{1, "a"}}));  // the same name in another db
  EXPECT_FALSE(Waits(units, {{0, "c"}, {0, "d"}}));
  // The oldest goes first; b still waits for the second.
  EXPECT_EQ(units.Pop().start, 100u);
  EXPECT_FALSE(Waits(units, {{0, "a"}}));
  EXPECT_TRUE(Waits(units, {{0, "b"}}));
  std::vector<uint64_t> hashes = {KeyHash({1, "c"})};
  EXPECT_TRUE(units.MustWait(std::span<const uint64_t>(hashes)));
  EXPECT_EQ(units.Pop().start, 110u);
  EXPECT_TRUE(units.empty());
  EXPECT_EQ(units.bytes(), 0u);
  EXPECT_FALSE(Waits(units, {{0, "b"}}));
}

TEST(DeferredUnitsTest, EverythingWaitsBehindABarrier) {
  DeferredUnits units;
  units.Push(Unit(100, {{0, "a"}}));
  units.Push(Unit(110, {}, /*barrier=*/true));
  EXPECT_TRUE(units.has_barrier());
  EXPECT_TRUE(Waits(units, {{5, "unrelated"}}));
  EXPECT_TRUE(Waits(units, {}));
  units.Pop();
  EXPECT_TRUE(Waits(units, {{5, "unrelated"}}));
  units.Pop();
  EXPECT_FALSE(units.has_barrier());
  EXPECT_FALSE(Waits(units, {{5, "unrelated"}}));
}

}  // namespace
}  // namespace reshard::engine
