// ProgressBar: filled cells, percent, an unknown total; KeysProgress and
// FormatEta for a snapshot counted in keys.

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

TEST(ProgressBarTest, EtaFormats) {
  EXPECT_EQ(FormatEta(0), "0s");
  EXPECT_EQ(FormatEta(-3), "0s");
  EXPECT_EQ(FormatEta(59.9), "59s");
  EXPECT_EQ(FormatEta(185), "3m05s");
  EXPECT_EQ(FormatEta(7620), "2h07m");
}

TEST(ProgressBarTest, KeysProgressWithRateAndEta) {
  EXPECT_EQ(KeysProgress(70, 100, std::nullopt, 10), "[#######---]  70% 70 / 100 keys");
  EXPECT_EQ(KeysProgress(70, 100, 10.0, 10),
            "[#######---]  70% 70 / 100 keys, 10.0 keys/s, ETA 3s");
  EXPECT_EQ(KeysProgress(0, 100000, 12.5, 10),
            "[----------]   0% 0 / 100000 keys, 12.5 keys/s, ETA 2h13m");
  EXPECT_EQ(KeysProgress(70, 100, 0.0, 10), "[#######---]  70% 70 / 100 keys, 0.0 keys/s, ETA ?");
  // The key count is from job start: more keys may come than it said.
  EXPECT_EQ(KeysProgress(120, 100, 5.0, 4), "[####] 100% 120 / 100 keys, 5.0 keys/s, ETA 0s");
  EXPECT_EQ(KeysProgress(7, 0, 5.0, 5), "[?????]    ? 7 keys");
}

}  // namespace
}  // namespace reshard::client
