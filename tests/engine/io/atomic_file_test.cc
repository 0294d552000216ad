// WriteFileAtomically: the new contents or the old, exact mode, no leftover.

#include "engine/io/atomic_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace reshard::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AtomicFileTest, ReplacesTheFileWithTheExactMode) {
  testing::TempDir dir("atomic_file_test");
  const std::string path = dir / "state";
  ASSERT_TRUE(WriteFileAtomically(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two", 0600).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "two");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(dir.Files(), ElementsAre("state")) << "no temporary file is left";
}

TEST(AtomicFileTest, ErrorsNameTheFile) {
  absl::Status status = WriteFileAtomically("/nonexistent-dir/state", "x", 0600);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("cannot create /nonexistent-dir/state.tmp: "));
  EXPECT_THAT(SyncDirectory("/nonexistent-dir").message(),
              HasSubstr("cannot sync /nonexistent-dir: "));
}

TEST(AtomicFileTest, DirectoryOf) {
  EXPECT_EQ(DirectoryOf("/a/b/c"), "/a/b");
  EXPECT_EQ(DirectoryOf("/c"), "/");
  EXPECT_EQ(DirectoryOf("c"), ".");
}

}  // namespace
}  // namespace reshard::engine
