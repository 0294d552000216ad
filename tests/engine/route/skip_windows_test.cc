#include "engine/route/skip_windows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

using Refs = std::vector<std::pair<int, std::string>>;

class SkipWindowsTest : public ::testing::Test {
 protected:
  SkipWindowsTest() { windows_.SetAppliedOffset(100); }

  bool Contains(int db, std::string_view key) const {
    KeyRef ref{db, key};
    return windows_.ContainsAny(std::span<const KeyRef>(&ref, 1));
  }
  // The keys AppendAffectedBy gives for the command `args`, sorted.
  Refs AffectedBy(std::initializer_list<std::string_view> args, int source_db = 0) {
    AppendCommand(&wire_, args);
    RespParser parser;
    RespCommand cmd;
    size_t consumed = 0;
    EXPECT_EQ(parser.Parse(wire_, &consumed, &cmd), ParseResult::kOk);
    wire_.clear();
    const CommandInfo* info = CommandTable::Builtin().Find(cmd.args);
    EXPECT_NE(info, nullptr);
    std::vector<KeyRef> refs;
    if (info != nullptr) windows_.AppendAffectedBy(*info, cmd, source_db, &refs);
    Refs got;
    for (const KeyRef& ref : refs) got.emplace_back(ref.db, std::string(ref.key));
    std::sort(got.begin(), got.end());
    return got;
  }

  SkipWindows windows_;
  std::string wire_;
};

TEST_F(SkipWindowsTest, AWindowLastsUntilTheAppliedOffsetReachesItsEnd) {
  EXPECT_TRUE(windows_.empty());
  windows_.Open(0, "k", 150, /*covering=*/false);
  EXPECT_EQ(windows_.size(), 1u);
  EXPECT_TRUE(Contains(0, "k"));
  EXPECT_FALSE(Contains(1, "k"));  // another db's k
  EXPECT_FALSE(Contains(0, "j"));
  windows_.SetAppliedOffset(149);
  EXPECT_TRUE(Contains(0, "k"));
  windows_.SetAppliedOffset(150);
  EXPECT_FALSE(Contains(0, "k"));
  EXPECT_TRUE(windows_.empty());
}

TEST_F(SkipWindowsTest, ACopyNotAheadOfTheStreamOpensNoWindow) {
  windows_.Open(0, "k", 100, /*covering=*/false);
  windows_.Open(0, "j", 50, /*covering=*/false);
  EXPECT_TRUE(windows_.empty());
}

TEST_F(SkipWindowsTest, ALaterCopyExtendsTheWindowAndAnEarlierOneDoesNot) {
  windows_.Open(0, "k", 200, /*covering=*/false);
  windows_.Open(0, "k", 300, /*covering=*/false);
  windows_.Open(0, "k", 250, /*covering=*/false);
  EXPECT_EQ(windows_.size(), 1u);
  windows_.SetAppliedOffset(299);
  EXPECT_TRUE(Contains(0, "k"));
  windows_.SetAppliedOffset(300);
  EXPECT_FALSE(Contains(0, "k"));
}

TEST_F(SkipWindowsTest, OnlyTheWindowsThatEndedClose) {
  windows_.Open(0, "a", 200, /*covering=*/false);
  windows_.Open(1, "b", 300, /*covering=*/false);
  windows_.Open(0, "c", 400, /*covering=*/false);
  windows_.SetAppliedOffset(300);
  EXPECT_EQ(windows_.size(), 1u);
  EXPECT_FALSE(Contains(0, "a"));
  EXPECT_FALSE(Contains(1, "b"));
  EXPECT_TRUE(Contains(0, "c"));
  windows_.Open(1, "b", 350, /*covering=*/false);  // opens again after its window closed
  EXPECT_TRUE(Contains(1, "b"));
  windows_.SetAppliedOffset(400);
  EXPECT_TRUE(windows_.empty());
}

TEST_F(SkipWindowsTest, ContainsAnyLooksAtEveryRef) {
  windows_.Open(2, "k", 200, /*covering=*/false);
  std::vector<KeyRef> refs = {{0, "k"}, {2, "j"}};
  EXPECT_FALSE(windows_.ContainsAny(refs));
  refs.push_back({2, "k"});
  EXPECT_TRUE(windows_.ContainsAny(refs));
}

TEST_F(SkipWindowsTest, FlushesAndSwapdbAffectTheirDbsKeys) {
  windows_.Open(0, "a", 200, /*covering=*/false);
  windows_.Open(1, "b", 200, /*covering=*/false);
  windows_.Open(2, "c", 200, /*covering=*/false);
  EXPECT_EQ(AffectedBy({"FLUSHALL"}), (Refs{{0, "a"}, {1, "b"}, {2, "c"}}));
  EXPECT_EQ(AffectedBy({"FLUSHALL", "ASYNC"}), (Refs{{0, "a"}, {1, "b"}, {2, "c"}}));
  EXPECT_EQ(AffectedBy({"FLUSHDB"}, /*source_db=*/1), (Refs{{1, "b"}}));
  EXPECT_EQ(AffectedBy({"FLUSHDB"}, /*source_db=*/5), Refs{});
  // Each skipped key of either db now lives in both.
  EXPECT_EQ(AffectedBy({"SWAPDB", "0", "1"}), (Refs{{0, "a"}, {0, "b"}, {1, "a"}, {1, "b"}}));
  EXPECT_EQ(AffectedBy({"SWAPDB", "0", "x"}), Refs{});
  EXPECT_EQ(AffectedBy({"PING"}), Refs{});
  EXPECT_EQ(AffectedBy({"DEL", "a"}), Refs{});
}

TEST_F(SkipWindowsTest, ACoveringWindowCoversUntilItsEndAndSkipsOlderCopies) {
  EXPECT_TRUE(windows_.Open(0, "k", 200, /*covering=*/true));
  EXPECT_EQ(windows_.Check({0, "k"}), SkipWindows::Hit::kCovered);
  EXPECT_EQ(windows_.Check({0, "j"}), SkipWindows::Hit::kNone);
  // A copy as of the same offset or an earlier one adds nothing.
  EXPECT_FALSE(windows_.Open(0, "k", 200, true));
  EXPECT_FALSE(windows_.Open(0, "k", 150, true));
  // A later one is sent and moves the end.
  EXPECT_TRUE(windows_.Open(0, "k", 250, true));
  // The position: a command starting at or past the end is outside it,
  // though the window closes only with the applied offset.
  windows_.SetPosition(249);
  EXPECT_EQ(windows_.Check({0, "k"}), SkipWindows::Hit::kCovered);
  windows_.SetPosition(250);
  EXPECT_EQ(windows_.Check({0, "k"}), SkipWindows::Hit::kNone);
  EXPECT_EQ(windows_.size(), 1u);
  windows_.SetAppliedOffset(120);  // the position follows the applied offset
  EXPECT_EQ(windows_.Check({0, "k"}), SkipWindows::Hit::kCovered);
  windows_.SetAppliedOffset(250);
  EXPECT_TRUE(windows_.empty());
}

TEST_F(SkipWindowsTest, StopCoveringTurnsEveryOpenWindowIntoARecopy) {
  windows_.Open(0, "a", 200, true);
  windows_.Open(1, "b", 300, true);
  windows_.StopCovering();
  EXPECT_EQ(windows_.Check({0, "a"}), SkipWindows::Hit::kRecopy);
  EXPECT_EQ(windows_.Check({1, "b"}), SkipWindows::Hit::kRecopy);
  // No longer covering: any copy is sent, and only a later one moves the end.
  EXPECT_TRUE(windows_.Open(0, "a", 150, true));
  EXPECT_EQ(windows_.Check({0, "a"}), SkipWindows::Hit::kRecopy);
  EXPECT_TRUE(windows_.Open(0, "a", 260, true));
  EXPECT_EQ(windows_.Check({0, "a"}), SkipWindows::Hit::kCovered);
  // Windows opened after it cover as asked.
  windows_.Open(2, "c", 300, true);
  windows_.Open(2, "d", 300, false);
  EXPECT_EQ(windows_.Check({2, "c"}), SkipWindows::Hit::kCovered);
  EXPECT_EQ(windows_.Check({2, "d"}), SkipWindows::Hit::kRecopy);
  windows_.SetAppliedOffset(259);
  EXPECT_EQ(windows_.size(), 4u);
  windows_.SetAppliedOffset(260);
  EXPECT_EQ(windows_.size(), 3u);
}

TEST_F(SkipWindowsTest, ManyWindowsCloseInOrderOfTheirEnds) {
  // Ends out of order, some extended: each closes exactly when the applied
  // offset reaches its (latest) end.
  for (int i = 0; i < 1000; ++i) {
    windows_.Open(0, absl::StrCat("k", i), 1000 + (i * 7919) % 1000, false);
  }
  for (int i = 0; i < 1000; i += 10) windows_.Open(0, absl::StrCat("k", i), 5000, false);
  EXPECT_EQ(windows_.size(), 1000u);
  for (uint64_t offset = 1000; offset < 2000; offset += 100) {
    windows_.SetAppliedOffset(offset + 99);
    size_t open = 0;
    for (int i = 0; i < 1000; ++i) {
      uint64_t end = i % 10 == 0 ? 5000 : 1000 + (i * 7919) % 1000;
      bool expect_open = end > offset + 99;
      open += expect_open;
      EXPECT_EQ(windows_.Check({0, absl::StrCat("k", i)}) != SkipWindows::Hit::kNone, expect_open)
          << i << " at " << offset + 99;
    }
    EXPECT_EQ(windows_.size(), open);
  }
  windows_.SetAppliedOffset(5000);
  EXPECT_TRUE(windows_.empty());
}

}  // namespace
}  // namespace reshard::engine
