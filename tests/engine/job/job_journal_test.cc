// JobJournal on a temporary directory: the newest complete record survives,
// a torn tail is ignored, compaction keeps the newest, an unreadable journal
// is moved aside.

#include "engine/job/job_journal.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace reshard::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

JobCheckpoint At(uint64_t offset) {
  JobCheckpoint c;
  c.source_replid = "8f3c9d0e1a2b3c4d5e6f708192a3b4c5d6e7f801";
  c.source_offset = offset;
  c.source_db = 0;
  c.targets = {{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", offset / 2}};
  return c;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class JobJournalTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<JobJournal>> Open(uint64_t compact_bytes = 1 << 20) {
    return JobJournal::Open(JobJournal::Options{
        .dir = dir_.path(), .fsync = FsyncPolicy::kAlways, .compact_bytes = compact_bytes});
  }
  testing::TempDir dir_{"job_journal_test"};
};

TEST_F(JobJournalTest, TheNewestRecordSurvives) {
  {
    auto journal = Open();
    ASSERT_TRUE(journal.ok()) << journal.status();
    EXPECT_FALSE((*journal)->restored().has_value());
    ASSERT_TRUE((*journal)->Record(At(100)).ok());
    ASSERT_TRUE((*journal)->Record(At(100)).ok());  // unchanged: not appended
    ASSERT_TRUE((*journal)->Record(At(200)).ok());
    EXPECT_EQ((*journal)->records(), 2u);
  }
  auto journal = Open();
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->restored().has_value());
  EXPECT_EQ(*(*journal)->restored(), At(200));
  EXPECT_EQ((*journal)->problem(), "");
}

TEST_F(JobJournalTest, ATornTailIsIgnored) {
  {
    auto journal = Open();
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->Record(At(100)).ok());
  }
  std::string torn = EncodeCheckpoint(At(300));
  std::ofstream(dir_ / "journal", std::ios::app) << torn.substr(0, torn.size() / 2);
  auto journal = Open();
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ(*(*journal)->restored(), At(100));
  EXPECT_EQ(Contents(dir_ / "journal"), EncodeCheckpoint(At(100)))
      << "rewritten with the newest record, so that nothing is appended to a torn line";
}

TEST_F(JobJournalTest, CompactionKeepsOnlyTheNewest) {
  auto journal = Open(/*compact_bytes=*/600);
  ASSERT_TRUE(journal.ok());
  for (uint64_t offset = 1; offset <= 20; ++offset) {
    ASSERT_TRUE((*journal)->Record(At(offset * 1000)).ok());
  }
  EXPECT_LE(Contents(dir_ / "journal").size(), 600u);
  EXPECT_THAT(dir_.Files(), ElementsAre("journal"));
  journal->reset();
  auto reopened = Open();
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->restored(), At(20000));
}

TEST_F(JobJournalTest, ClearForgetsEveryRecord) {
  {
    auto journal = Open();
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->Record(At(100)).ok());
    ASSERT_TRUE((*journal)->Clear().ok());
  }
  auto journal = Open();
  ASSERT_TRUE(journal.ok());
  EXPECT_FALSE((*journal)->restored().has_value());
  EXPECT_EQ((*journal)->problem(), "");
}

TEST_F(JobJournalTest, AnUnreadableJournalIsMovedAside) {
  std::ofstream(dir_ / "journal") << "garbage\nmore garbage\n";
  auto journal = Open();
  ASSERT_TRUE(journal.ok());
  EXPECT_FALSE((*journal)->restored().has_value());
  EXPECT_THAT((*journal)->problem(),
              HasSubstr("holds no valid record (job checkpoint: no crc (a torn record)): moved "
                        "to "));
  EXPECT_THAT(dir_.Files(), ElementsAre("journal", "journal.corrupt"));
  ASSERT_TRUE((*journal)->Record(At(5)).ok()) << "a new journal goes on";
}

}  // namespace
}  // namespace reshard::engine
