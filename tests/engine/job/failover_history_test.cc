#include "engine/job/failover_history.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace reshard::engine {
namespace {

SourceFailover Record(SourceFailover::Kind kind, int n) {
  SourceFailover f;
  f.kind = kind;
  f.from = absl::StrCat("10.0.0.", n, ":6379");
  f.to = absl::StrCat("10.0.0.", n + 1, ":6379");
  f.offset = 1000 + n;
  f.unix_ms = 1700000000000 + n;
  f.detail = absl::StrCat("continued with PSYNC: +CONTINUE id ", n);
  return f;
}

TEST(FailoverHistoryTest, RoundTripsEveryFieldAndKind) {
  FailoverHistory history;
  history.earlier_partial = 7;
  history.earlier_full = 2;
  AppendFailover(history, Record(SourceFailover::Kind::kPartial, 1));
  SourceFailover odd = Record(SourceFailover::Kind::kFull, 2);
  odd.detail = "two\nlines, a tab\t, a backslash \\ and \"quotes\"";
  AppendFailover(history, odd);
  SourceFailover pending = Record(SourceFailover::Kind::kPending, 3);
  pending.from = "";  // not known: written "-"
  AppendFailover(history, pending);
  const std::string text = EncodeFailoverHistory(history);
  EXPECT_EQ(text.substr(0, text.find('\n')), "v1 earlier_partial=7 earlier_full=2");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  absl::StatusOr<FailoverHistory> decoded = DecodeFailoverHistory(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(*decoded == history);
  EXPECT_EQ(decoded->failovers[1].detail, odd.detail);
  EXPECT_EQ(decoded->failovers[2].from, "");
  EXPECT_EQ(PartialFailovers(*decoded), 8u);
  EXPECT_EQ(FullFailovers(*decoded), 3u);
}

TEST(FailoverHistoryTest, KeepsTheLastRecordsAndCountsTheDroppedOnes) {
  FailoverHistory history;
  for (int i = 0; i < 40; ++i) {
    AppendFailover(
        history,
        Record(i % 4 == 0 ? SourceFailover::Kind::kFull : SourceFailover::Kind::kPartial, i));
  }
  ASSERT_EQ(history.failovers.size(), kKeptSourceFailovers);
  EXPECT_EQ(history.failovers.front().offset, 1008u);  // records 0-7 dropped
  EXPECT_EQ(history.earlier_full, 2u);                 // 0 and 4
  EXPECT_EQ(history.earlier_partial, 6u);
  EXPECT_EQ(FullFailovers(history), 10u);
  EXPECT_EQ(PartialFailovers(history), 30u);
  absl::StatusOr<FailoverHistory> decoded = DecodeFailoverHistory(EncodeFailoverHistory(history));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(*decoded == history);
}

TEST(FailoverHistoryTest, ADamagedFileSaysWhere) {
  EXPECT_EQ(DecodeFailoverHistory("").status().message(), "source failovers line 1: empty");
  EXPECT_EQ(DecodeFailoverHistory("v2 earlier_partial=0 earlier_full=0\n").status().message(),
            "source failovers line 1: not \"v1 earlier_partial=<n> earlier_full=<n>\"");
  EXPECT_EQ(DecodeFailoverHistory("v1 earlier_partial=0 earlier_full=0\nPARTIAL 1 2 a:1 b:2\n")
                .status()
                .message(),
            "source failovers line 2: fewer than 6 fields");
  EXPECT_EQ(DecodeFailoverHistory("v1 earlier_partial=0 earlier_full=0\nHALF 1 2 a:1 b:2 x\n")
                .status()
                .message(),
            "source failovers line 2: unknown kind");
  EXPECT_EQ(DecodeFailoverHistory("v1 earlier_partial=0 earlier_full=0\nFULL 1 x a:1 b:2 x\n")
                .status()
                .message(),
            "source failovers line 2: malformed offset");
  EXPECT_EQ(DecodeFailoverHistory("v1 earlier_partial=0 earlier_full=0\nFULL 1 2 a:1 b:2 \\q\n")
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace reshard::engine
