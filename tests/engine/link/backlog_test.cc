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

}  // namespace
}  // namespace reshard::engine
