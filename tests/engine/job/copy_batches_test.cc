#include "engine/job/copy_batches.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace reshard::engine {
namespace {

MaterializedBatch Batch(uint64_t offset, std::vector<std::pair<int, std::string>> keys) {
  MaterializedBatch batch;
  batch.source_offset = offset;
  for (auto& [db, key] : keys) {
    batch.keys.emplace_back(db, MaterializedKey{key, true, absl::StrCat(key, "@", offset), 0});
  }
  return batch;
}

TEST(CopyBatchesTest, TheOpenBatchAsksForEachKeyOnceAndIdsFollowTheSendOrder) {
  CopyBatches batches;
  uint64_t first = batches.Request({0, "a"});
  EXPECT_EQ(batches.Request({0, "b"}), first);
  EXPECT_EQ(batches.Request({0, "a"}), first);  // coalesced
  EXPECT_EQ(batches.Request({2, "a"}), first);
  EXPECT_EQ(batches.open_keys(), 3u);
  batches.Hold(first);
  std::vector<Materialization> sent = batches.TakeOpen();
  EXPECT_EQ(sent, (std::vector<Materialization>{{0, {"a", "b"}}, {2, {"a"}}}));
  EXPECT_EQ(batches.open_keys(), 0u);
  EXPECT_EQ(batches.in_flight(), 1u);
  uint64_t second = batches.Request({0, "a"});  // a copy taken later: asked again
  EXPECT_EQ(second, first + 1);
  batches.Hold(second);
  batches.TakeOpen();
  EXPECT_FALSE(batches.received(first));
  ASSERT_TRUE(batches.Received(Batch(500, {{0, "a"}, {0, "b"}, {2, "a"}})).ok());
  ASSERT_TRUE(batches.Received(Batch(700, {{0, "a"}})).ok());
  EXPECT_TRUE(batches.received(first));
  EXPECT_TRUE(batches.received(second));
  EXPECT_EQ(batches.Received(Batch(900, {})).code(), absl::StatusCode::kInternal);

  // The newest copy among the batches a unit holds.
  const MaterializedBatch* batch = nullptr;
  std::vector<uint64_t> both = {first, second};
  const MaterializedKey* copy = batches.Find(both, {0, "a"}, &batch);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->payload, "a@700");
  EXPECT_EQ(batch->source_offset, 700u);
  std::vector<uint64_t> only_first = {first};
  copy = batches.Find(only_first, {2, "a"}, &batch);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->payload, "a@500");
  EXPECT_EQ(batches.Find(only_first, {1, "a"}, &batch), nullptr);

  // Kept while held.
  batches.Hold(first);
  batches.Release(first);
  EXPECT_TRUE(batches.received(first));
  batches.Release(first);
  EXPECT_FALSE(batches.received(first));
  EXPECT_EQ(batches.received_batches(), 1u);
}

TEST(CopyBatchesTest, AReplyNobodyHoldsIsDropped) {
  CopyBatches batches;
  batches.Request({0, "a"});
  batches.TakeOpen();
  ASSERT_TRUE(batches.Received(Batch(10, {{0, "a"}})).ok());
  EXPECT_EQ(batches.received_batches(), 0u);
}

}  // namespace
}  // namespace reshard::engine
