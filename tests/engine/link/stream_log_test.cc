// StreamLog on a temporary directory: offsets across segments, reads,
// dropping old segments, and what a new process finds (cut to the recorded
// offset; nothing when the tail it needs was lost).

#include "engine/link/stream_log.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace reshard::engine {
namespace {

using ::testing::ElementsAre;

class StreamLogTest : public ::testing::Test {
 protected:
  StreamLog::Options Options() {
    return StreamLog::Options{
        .dir = dir_.path(), .name = "t0", .segment_bytes = 10, .fsync = FsyncPolicy::kNo};
  }
  // Everything the log holds, read in small pieces.
  std::string ReadAll(StreamLog& log) {
    std::string out;
    for (uint64_t at = log.start_offset(); at <= log.end_offset();) {
      absl::StatusOr<std::string_view> bytes = log.Read(at, 3);
      EXPECT_TRUE(bytes.ok()) << bytes.status();
      if (!bytes.ok()) break;
      out.append(*bytes);
      at += bytes->size();
    }
    return out;
  }

  testing::TempDir dir_{"stream_log_test"};
};

TEST_F(StreamLogTest, OffsetsRunAcrossSegments) {
  auto log = StreamLog::Create(Options(), 100);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->start_offset(), 101u);
  EXPECT_EQ((*log)->end_offset(), 100u);
  ASSERT_TRUE((*log)->Append("abcdefghijklmnopqrstuvwxy").ok());
  EXPECT_EQ((*log)->start_offset(), 101u);
  EXPECT_EQ((*log)->end_offset(), 125u);
  EXPECT_EQ((*log)->segments(), 3u);
  EXPECT_EQ(ReadAll(**log), "abcdefghijklmnopqrstuvwxy");
  absl::StatusOr<std::string_view> middle = (*log)->Read(112, 100);
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(*middle, "lmnopqrst") << "one segment per read";
  EXPECT_THAT(dir_.Files(),
              ElementsAre("t0.00000000000000000101.log", "t0.00000000000000000111.log",
                          "t0.00000000000000000121.log"));
  EXPECT_EQ((*log)->Read(126, 1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(StreamLogTest, DropBeforeDeletesOnlyWholeOldSegments) {
  auto log = StreamLog::Create(Options(), 0);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append("0123456789abcdefghijKLMNO").ok());  // 1-10, 11-20, 21-25
  (*log)->DropBefore(15);
  EXPECT_EQ((*log)->start_offset(), 11u);
  (*log)->DropBefore(1000);
  EXPECT_EQ((*log)->start_offset(), 21u) << "the segment being written stays";
  EXPECT_EQ(ReadAll(**log), "KLMNO");
  EXPECT_EQ(dir_.Files().size(), 1u);
}

TEST_F(StreamLogTest, ANewProcessFindsTheLogCutToTheRecordedOffset) {
  {
    auto log = StreamLog::Create(Options(), 0);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("0123456789abcdefghijKLMNO").ok());
  }
  auto log = StreamLog::Open(Options(), 15);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->start_offset(), 1u);
  EXPECT_EQ((*log)->end_offset(), 15u);
  EXPECT_EQ(ReadAll(**log), "0123456789abcde");
  EXPECT_EQ(dir_.Files().size(), 2u) << "the segment past the record is deleted";
  ASSERT_TRUE((*log)->Append("xyz").ok());
  EXPECT_EQ(ReadAll(**log), "0123456789abcdexyz");
}

TEST_F(StreamLogTest, ALogThatLostItsTailStartsEmptyAtTheRecordedOffset) {
  {
    auto log = StreamLog::Create(Options(), 0);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("0123456789").ok());
  }
  // The record counts bytes the log does not hold (a crash of the machine).
  auto log = StreamLog::Open(Options(), 14);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->start_offset(), 15u);
  EXPECT_EQ((*log)->end_offset(), 14u);
  EXPECT_TRUE(dir_.Files().empty());
}

TEST_F(StreamLogTest, OnlyTheContiguousRunEndingAtTheRecordIsKept) {
  {
    auto log = StreamLog::Create(Options(), 0);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("0123456789abcdefghij").ok());
  }
  std::remove((dir_.path() + "/t0.00000000000000000001.log").c_str());
  std::ofstream(dir_.path() + "/t0.00000000000000000021.log") << "KLMNO";
  std::ofstream(dir_.path() + "/other.00000000000000000001.log") << "not ours";
  auto log = StreamLog::Open(Options(), 25);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->start_offset(), 11u);
  EXPECT_EQ(ReadAll(**log), "abcdefghijKLMNO");
}

TEST_F(StreamLogTest, CreateAndResetDeleteWhatWasThere) {
  {
    auto log = StreamLog::Create(Options(), 0);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("0123456789abc").ok());
    ASSERT_TRUE((*log)->Reset(500).ok());
    EXPECT_TRUE(dir_.Files().empty());
    EXPECT_EQ((*log)->start_offset(), 501u);
    ASSERT_TRUE((*log)->Append("z").ok());
  }
  auto log = StreamLog::Create(Options(), 7);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(dir_.Files().empty());
  EXPECT_EQ((*log)->end_offset(), 7u);
}

}  // namespace
}  // namespace reshard::engine
