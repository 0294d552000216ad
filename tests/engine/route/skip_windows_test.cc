#include "engine/route/skip_windows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

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
  windows_.Open(0, "k", 150);
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
  windows_.Open(0, "k", 100);
  windows_.Open(0, "j", 50);
  EXPECT_TRUE(windows_.empty());
}

TEST_F(SkipWindowsTest, ALaterCopyExtendsTheWindowAndAnEarlierOneDoesNot) {
  windows_.Open(0, "k", 200);
  windows_.Open(0, "k", 300);
  windows_.Open(0, "k", 250);
  EXPECT_EQ(windows_.size(), 1u);
  windows_.SetAppliedOffset(299);
  EXPECT_TRUE(Contains(0, "k"));
  windows_.SetAppliedOffset(300);
  EXPECT_FALSE(Contains(0, "k"));
}

TEST_F(SkipWindowsTest, OnlyTheWindowsThatEndedClose) {
  windows_.Open(0, "a", 200);
  windows_.Open(1, "b", 300);
  windows_.Open(0, "c", 400);
  windows_.SetAppliedOffset(300);
  EXPECT_EQ(windows_.size(), 1u);
  EXPECT_FALSE(Contains(0, "a"));
  EXPECT_FALSE(Contains(1, "b"));
  EXPECT_TRUE(Contains(0, "c"));
  windows_.Open(1, "b", 350);  // opens again after its window closed
  EXPECT_TRUE(Contains(1, "b"));
  windows_.SetAppliedOffset(400);
  EXPECT_TRUE(windows_.empty());
}

TEST_F(SkipWindowsTest, ContainsAnyLooksAtEveryRef) {
  windows_.Open(2, "k", 200);
  std::vector<KeyRef> refs = {{0, "k"}, {2, "j"}};
  EXPECT_FALSE(windows_.ContainsAny(refs));
  refs.push_back({2, "k"});
  EXPECT_TRUE(windows_.ContainsAny(refs));
}

TEST_F(SkipWindowsTest, FlushesAndSwapdbAffectTheirDbsKeys) {
  windows_.Open(0, "a", 200);
  windows_.Open(1, "b", 200);
  windows_.Open(2, "c", 200);
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

}  // namespace
}  // namespace reshard::engine
