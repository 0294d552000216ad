// JobCheckpoint's one-line form: round trip, and lines that must not be taken.

#include "engine/job/job_checkpoint.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/rdb/crc64.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reshard::engine {
namespace {

using ::testing::HasSubstr;

JobCheckpoint Sample() {
  JobCheckpoint c;
  c.source_replid = "8f3c9d0e1a2b3c4d5e6f708192a3b4c5d6e7f801";
  c.source_offset = 123456789;
  c.source_db = 3;
  c.paused = true;
  c.targets = {{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 42}, {"", 7}};
  c.skip_windows = {{0, std::string("k\0 ey:", 6), 123456800}, {2, "", 123456790}};
  return c;
}

TEST(JobCheckpointTest, RoundTrips) {
  std::string line = EncodeCheckpoint(Sample());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, whatever the keys hold";
  absl::StatusOr<JobCheckpoint> decoded = DecodeCheckpoint(line.substr(0, line.size() - 1));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Sample());
}

TEST(JobCheckpointTest, ATornOrDamagedLineIsRefused) {
  std::string line = EncodeCheckpoint(Sample());
  line.pop_back();
  EXPECT_THAT(DecodeCheckpoint(line.substr(0, line.size() / 2)).status().message(),
              HasSubstr("no crc (a torn record)"));
  std::string damaged = line;
  damaged[10] = damaged[10] == '1' ? '2' : '1';
  absl::StatusOr<JobCheckpoint> decoded = DecodeCheckpoint(damaged);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("crc mismatch"));
}

TEST(JobCheckpointTest, ANewerWritersUnknownFieldsAreIgnored) {
  JobCheckpoint c = Sample();
  std::string line = EncodeCheckpoint(c);
  std::string body = line.substr(0, line.find(" crc=")) + " future=1";
  std::string extended = absl::StrCat(body, " crc=", absl::StrFormat("%016x", Crc64(0, body)));
  absl::StatusOr<JobCheckpoint> decoded = DecodeCheckpoint(extended);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, c);
}

}  // namespace
}  // namespace reshard::engine
