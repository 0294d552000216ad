#include "engine/link/backlog.h"

#include <gtest/gtest.h>

#include <string>

namespace reshard::engine {
namespace {

TEST(BacklogTest, EmptyBacklogContinuesOnlyAtNextOffset) {
  Backlog backlog(8);
  backlog.Reset(100);
  EXPECT_EQ(backlog.end_offset(), 100u);
  EXPECT_TRUE(backlog.CanContinueFrom(101));
  EXPECT_FALSE(backlog.CanContinueFrom(100));
  EXPECT_FALSE(backlog.CanContinueFrom(102));
  EXPECT_EQ(backlog.CopyFrom(101), "");
}

TEST(BacklogTest, KeepsTheLastCapacityBytesAcrossWraps) {
  Backlog backlog(8);
  backlog.Reset(0);
  std::string all;
  for (int i = 0; i < 30; ++i) {
    std::string piece(static_cast<size_t>(i % 5 + 1), static_cast<char>('a' + i % 26));
    backlog.Append(piece);
    all += piece;
    ASSERT_EQ(backlog.end_offset(), all.size());
    uint64_t kept = std::min<uint64_t>(all.size(), 8);
    ASSERT_EQ(backlog.size(), kept);
    for (uint64_t from = all.size() + 1 - kept; from <= all.size() + 1; ++from) {
      ASSERT_TRUE(backlog.CanContinueFrom(from)) << from;
      ASSERT_EQ(backlog.CopyFrom(from), all.substr(from - 1)) << "from " << from << " step " << i;
    }
    EXPECT_FALSE(backlog.CanContinueFrom(all.size() - kept));
  }
}

TEST(BacklogTest, AppendLargerThanCapacityKeepsTail) {
  Backlog backlog(4);
  backlog.Reset(10);
  backlog.Append("abcdefghij");
  EXPECT_EQ(backlog.end_offset(), 20u);
  EXPECT_EQ(backlog.start_offset(), 17u);
  EXPECT_EQ(backlog.CopyFrom(17), "ghij");
}

// A big backlog that grows as it is used, through the point where it fills
// (an append straddling it) and wraps, compared with the stream at every step;
// a Reset starts it again from nothing.
TEST(BacklogTest, GrowsAsUsedThenWrapsAndResetsToNothing) {
  const uint64_t capacity = 100000;
  Backlog backlog(capacity);
  backlog.Reset(7);
  std::string all;
  uint32_t seed = 1;
  auto next = [&] { return seed = seed * 1103515245 + 12345; };
  for (int i = 0; i < 400; ++i) {
    std::string piece(static_cast<size_t>(next() % 1500 + 1), static_cast<char>('a' + i % 26));
    if (i == 250) piece.assign(capacity + 123, 'Z');  // more than it holds at once
    backlog.Append(piece);
    all += piece;
    ASSERT_EQ(backlog.end_offset(), 7 + all.size());
    const uint64_t kept = std::min<uint64_t>(all.size(), capacity);
    ASSERT_EQ(backlog.size(), kept);
    const uint64_t first = 7 + all.size() + 1 - kept;
    ASSERT_TRUE(backlog.CanContinueFrom(first));
    ASSERT_FALSE(backlog.CanContinueFrom(first - 1));
    for (uint64_t from : {first, first + kept / 3, 7 + all.size(), 7 + all.size() + 1}) {
      ASSERT_EQ(backlog.CopyFrom(from), all.substr(from - 8)) << "from " << from << " step " << i;
    }
  }
  backlog.Reset(backlog.end_offset());
  EXPECT_EQ(backlog.size(), 0u);
  backlog.Append("abc");
  EXPECT_EQ(backlog.CopyFrom(backlog.end_offset() - 2), "abc");
}

}  // namespace
}  // namespace reshard::engine
