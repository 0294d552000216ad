// ProgressBar: filled cells, percent, an unknown total.

#include "client/output/progress_bar.h"

#include <gtest/gtest.h>

namespace reshard::client {
namespace {

TEST(ProgressBarTest, FilledCellsAndPercent) {
  EXPECT_EQ(ProgressBar(0, 100, 10), "[----------]   0%");
  EXPECT_EQ(ProgressBar(50, 100, 10), "[#####-----]  50%");
  EXPECT_EQ(ProgressBar(100, 100, 10), "[##########] 100%");
  EXPECT_EQ(ProgressBar(250, 100, 4), "[####] 100%");  // past the total
  EXPECT_EQ(ProgressBar(7, 0, 5), "[?????]    ?");     // unknown total
}

}  // namespace
}  // namespace reshard::client
