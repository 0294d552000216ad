// AppendFile and the FileSyncer behind appendfsync everysec, on a temporary
// directory.

#include "engine/io/append_file.h"

#include <fstream>
#include <sstream>

#include "engine/io/file_syncer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace reshard::engine {
namespace {

using ::testing::HasSubstr;

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(AppendFileTest, AppendsReadsAndTruncates) {
  testing::TempDir dir("append_file_test");
  const std::string path = dir / "f";
  {
    auto file = AppendFile::Open(path, false);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Append("hello ").ok());
    ASSERT_TRUE((*file)->Append("world").ok());
    EXPECT_EQ((*file)->size(), 11u);
    char buffer[16];
    absl::StatusOr<size_t> got = (*file)->ReadAt(6, buffer, sizeof(buffer));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::string(buffer, *got), "world");
    ASSERT_TRUE((*file)->Truncate(5).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  EXPECT_EQ(Contents(path), "hello");
  auto reopened = AppendFile::Open(path, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), 5u) << "appends go on at the end";
  ASSERT_TRUE((*reopened)->Append("!").ok());
  EXPECT_EQ(Contents(path), "hello!");
  auto truncated = AppendFile::Open(path, true);
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ((*truncated)->size(), 0u);
}

TEST(AppendFileTest, ErrorsNameTheFile) {
  auto file = AppendFile::Open("/nonexistent-dir/f", false);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(file.status().message(), HasSubstr("cannot open /nonexistent-dir/f: "));
}

TEST(FileSyncerTest, SyncsWhatIsQueuedEvenAfterTheFileIsClosed) {
  testing::TempDir dir("file_syncer_test");
  FileSyncer syncer;
  {
    auto file = AppendFile::Open(dir / "f", false);
    ASSERT_TRUE(file.ok());
    (*file)->SyncSoon(syncer);  // nothing appended: nothing queued
    ASSERT_TRUE((*file)->Append("x").ok());
    (*file)->SyncSoon(syncer);
    (*file)->SyncSoon(syncer);  // synced already (queued): not again
  }  // closed while the sync may still be queued: the syncer has its own descriptor
  syncer.SyncDirectorySoon(dir.path());
  syncer.Drain();
  EXPECT_EQ(syncer.syncs(), 2u);
  EXPECT_TRUE(syncer.first_error().ok());
  syncer.SyncDirectorySoon(dir / "missing");
  syncer.Drain();
  EXPECT_THAT(syncer.first_error().message(), HasSubstr("cannot sync "));
}

}  // namespace
}  // namespace reshard::engine
