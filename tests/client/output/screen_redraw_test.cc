// ScreenRedraw: the exact bytes that replace one frame with the next, lines
// cut to the terminal's width (UTF-8 kept whole) and frames to its height.

#include "client/output/screen_redraw.h"

#include <gtest/gtest.h>

namespace reshard::client {
namespace {

TEST(ScreenRedrawTest, FirstFrameIsDrawnWhereTheCursorIs) {
  ScreenRedraw screen;
  EXPECT_EQ(screen.Replace("job j: SYNCING\n  rdb: 10%\n", {80, 24}),
            "\rjob j: SYNCING\033[K\n  rdb: 10%\033[K\n\033[J");
}

TEST(ScreenRedrawTest, NextFrameGoesBackOverThePreviousOne) {
  ScreenRedraw screen;
  screen.Replace("a\nb\nc\n", {80, 24});
  // Up three lines, rewrite, clear what the longer previous frame left below.
  EXPECT_EQ(screen.Replace("d\ne", {80, 24}), "\r\033[3Ad\033[K\ne\033[K\n\033[J");
  EXPECT_EQ(screen.Replace("f\n", {80, 24}), "\r\033[2Af\033[K\n\033[J");
}

TEST(ScreenRedrawTest, LinesAreCutToTheWidthSoThatNoneWraps) {
  ScreenRedraw screen;
  // Width 6: at most 5 columns; "é" (2 bytes) and "→" (3 bytes) are one column each.
  EXPECT_EQ(screen.Replace("abcdefgh\né→xyzw\n", {6, 24}), "\rabcde\033[K\né→xyz\033[K\n\033[J");
}

TEST(ScreenRedrawTest, FramesTallerThanTheTerminalSayHowManyLinesAreLeftOut) {
  ScreenRedraw screen;
  EXPECT_EQ(screen.Replace("1\n2\n3\n4\n5\n6\n", {80, 4}),
            "\r1\033[K\n2\033[K\n... 4 more lines\033[K\n\033[J");
  // Three lines were drawn: the next frame goes up three.
  EXPECT_EQ(screen.Replace("x\n", {80, 4}), "\r\033[3Ax\033[K\n\033[J");
}

}  // namespace
}  // namespace reshard::client
