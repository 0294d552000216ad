// AdviseSourceBacklog: the source's backlog against its write rate and the
// down time a restart of reshardd may take.

#include "engine/job/backlog_advisor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reshard::engine {
namespace {

using ::testing::HasSubstr;

TEST(BacklogAdvisorTest, ABacklogThatHoldsTheDownTimeNeedsNothing) {
  BacklogAdvice advice = AdviseSourceBacklog(64 << 20, 1 << 20, absl::Seconds(60));
  EXPECT_EQ(advice.backlog_bytes, 64u << 20);
  EXPECT_DOUBLE_EQ(advice.covers_seconds, 64);
  EXPECT_EQ(advice.recommended_bytes, 0u);
  EXPECT_EQ(advice.text, "");
}

TEST(BacklogAdvisorTest, ASmallBacklogGetsTheSizeToSet) {
  // 1 MiB at 100 KB/s: 10.5 s; 60 s of writes plus half is 9 MB, so 9 MiB.
  BacklogAdvice advice = AdviseSourceBacklog(1 << 20, 100000, absl::Seconds(60));
  EXPECT_NEAR(advice.covers_seconds, 10.49, 0.01);
  EXPECT_EQ(advice.recommended_bytes, 9u << 20);
  EXPECT_EQ(advice.text,
            "the source's repl-backlog-size (1048576 bytes) holds 10.5 s of its writes (100000 "
            "bytes/s): a restart of reshardd longer than that costs a fork on the source and a "
            "full sync of every target; set repl-backlog-size to at least 9437184 "
            "(options.restart_down_time_ms = 60000 ms of writes, plus half), or let reshardd set "
            "it (options.set_source_backlog)");
}

TEST(BacklogAdvisorTest, NoWritesNoAdvice) {
  BacklogAdvice advice = AdviseSourceBacklog(16384, 0, absl::Seconds(60));
  EXPECT_EQ(advice.covers_seconds, 0);
  EXPECT_EQ(advice.text, "");
}

}  // namespace
}  // namespace reshard::engine
