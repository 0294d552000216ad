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

TEST(CopyBatchesTest, ABatchAsksForEachKeyOnceAndIdsFollowTheSendOrder) {
  CopyBatches batches;
  uint64_t first = batches.Request({0, "a"});
  EXPECT_EQ(batches.Request({0, "b"}), first);
  EXPECT_EQ(batches.Request({0, "a"}), first);  // coalesced
  EXPECT_EQ(batches.Request({2, "a"}), first);
  EXPECT_EQ(batches.open_keys(), 3u);
  batches.Hold(first);
  std::vector<Materialization> sent = batches.TakeNext();
  EXPECT_EQ(sent, (std::vector<Materialization>{{0, {"a", "b"}}, {2, {"a"}}}));
  EXPECT_EQ(batches.open_keys(), 0u);
  EXPECT_EQ(batches.in_flight(), 1u);
  uint64_t second = batches.Request({0, "a"});  // a copy taken later: asked again
  EXPECT_EQ(second, first + 1);
  batches.Hold(second);
  batches.TakeNext();
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

TEST(CopyBatchesTest, ASealedBatchSharesItsKeysUntilSentAndIsSentFirst) {
  CopyBatches batches;
  uint64_t first = batches.Request({0, "a"});
  batches.Request({0, "b"});
  batches.Seal();
  EXPECT_EQ(batches.sealed(), 1u);
  EXPECT_EQ(batches.open_keys(), 0u);
  EXPECT_EQ(batches.Request({0, "a"}), first);  // not sent: its copy is still to be read
  uint64_t second = batches.Request({0, "c"});
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(batches.open_keys(), 1u);
  EXPECT_EQ(batches.unsent_keys(), 3u);
  batches.Seal();
  batches.Seal();  // an empty open batch is not sealed
  EXPECT_EQ(batches.sealed(), 2u);
  uint64_t third = batches.Request({0, "d"});
  EXPECT_EQ(third, second + 1);

  EXPECT_EQ(batches.TakeNext(), (std::vector<Materialization>{{0, {"a", "b"}}}));
  EXPECT_EQ(batches.unsent_keys(), 2u);
  // Sent: a copy of "a" asked for now is read again, in the open batch.
  EXPECT_EQ(batches.Request({0, "a"}), third);
  EXPECT_EQ(batches.TakeNext(), (std::vector<Materialization>{{0, {"c"}}}));
  EXPECT_EQ(batches.TakeNext(), (std::vector<Materialization>{{0, {"d", "a"}}}));
  EXPECT_TRUE(batches.TakeNext().empty());
  EXPECT_EQ(batches.in_flight(), 3u);
  EXPECT_EQ(batches.unsent_keys(), 0u);
}

TEST(CopyBatchesTest, AReplyNobodyHoldsIsDropped) {
  CopyBatches batches;
  batches.Request({0, "a"});
  batches.TakeNext();
  ASSERT_TRUE(batches.Received(Batch(10, {{0, "a"}})).ok());
  EXPECT_EQ(batches.received_batches(), 0u);
}

}  // namespace
}  // namespace reshard::engine
