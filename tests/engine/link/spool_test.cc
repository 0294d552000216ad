#include "engine/link/spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/temp_dir.h"

namespace reshard::engine {
namespace {

using ::reshard::testing::TempDir;

// Everything in the spool, front to back, popping as it reads.
std::string Drain(Spool& spool, size_t chunk) {
  std::string out;
  while (!spool.empty()) {
    absl::StatusOr<std::string_view> front = spool.Front(chunk);
    EXPECT_TRUE(front.ok()) << front.status();
    if (!front.ok() || front->empty()) break;
    out.append(*front);
    spool.Pop(front->size());
  }
  return out;
}

TEST(SpoolTest, SmallQueuesStayInMemory) {
  TempDir dir("spool");
  Spool spool({.dir = dir.path(), .name = "t", .memory_bytes = 16, .segment_bytes = 8});
  ASSERT_TRUE(spool.Push("hello ").ok());
  ASSERT_TRUE(spool.Push("world").ok());
  EXPECT_EQ(spool.size(), 11u);
  EXPECT_EQ(spool.disk_bytes(), 0u);
  EXPECT_TRUE(dir.Files().empty());
  EXPECT_EQ(Drain(spool, 4), "hello world");
  EXPECT_EQ(spool.pushed(), 11u);
  EXPECT_EQ(spool.popped(), 11u);
}

TEST(SpoolTest, OverflowGoesToSegmentFilesInOrderAndTheyAreDeletedWhenDrained) {
  TempDir dir("spool");
  Spool spool({.dir = dir.path(), .name = "t", .memory_bytes = 10, .segment_bytes = 7});
  std::string all;
  for (int i = 0; i < 20; ++i) {
    std::string piece = absl::StrCat(i, ",");
    ASSERT_TRUE(spool.Push(piece).ok());
    all += piece;
  }
  EXPECT_EQ(spool.size(), all.size());
  EXPECT_GT(spool.disk_bytes(), 0u);
  EXPECT_LE(spool.size() - spool.disk_bytes(), 10u);
  EXPECT_GE(dir.Files().size(), 2u);
  // Read half, push more while the files drain: the order holds.
  std::string got;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<std::string_view> front = spool.Front(3);
    ASSERT_TRUE(front.ok());
    got.append(*front);
    spool.Pop(front->size());
  }
  ASSERT_TRUE(spool.Push("tail").ok());
  all += "tail";
  got += Drain(spool, 5);
  EXPECT_EQ(got, all);
  EXPECT_EQ(spool.disk_bytes(), 0u);
  EXPECT_TRUE(dir.Files().empty());
  // Empty again: memory is used again.
  ASSERT_TRUE(spool.Push("x").ok());
  EXPECT_EQ(spool.disk_bytes(), 0u);
}

TEST(SpoolTest, ClearDeletesFiles) {
  TempDir dir("spool");
  {
    Spool spool({.dir = dir.path(), .name = "t", .memory_bytes = 2, .segment_bytes = 4});
    ASSERT_TRUE(spool.Push("0123456789").ok());
    EXPECT_EQ(dir.Files().size(), 3u);  // too big for memory: 4 + 4 + 2 on disk
    spool.Clear();
    EXPECT_TRUE(spool.empty());
    EXPECT_TRUE(dir.Files().empty());
    ASSERT_TRUE(spool.Push("abcdefgh").ok());
    EXPECT_FALSE(dir.Files().empty());
  }
  EXPECT_TRUE(dir.Files().empty());  // the destructor deletes them too
}

TEST(SpoolTest, AnUnwritableDirectoryIsAnErrorNamingTheFile) {
  TempDir dir("spool");
  std::string blocked = dir / "not-a-dir";
  FILE* f = fopen(blocked.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  Spool spool({.dir = blocked, .name = "t", .memory_bytes = 1, .segment_bytes = 4});
  absl::Status status = spool.Push("abc");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(),
            absl::StrCat("spool file ", blocked, "/t.0.spool: cannot create: Not a directory"));
  EXPECT_EQ(spool.size(), 0u);
}

}  // namespace
}  // namespace reshard::engine
