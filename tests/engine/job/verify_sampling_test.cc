#include "engine/job/verify_sampling.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/job/verify_report.h"

namespace reshard::engine {
namespace {

TEST(KeyInSampleTest, FractionOfKeysIsDeterministic) {
  int chosen = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string key = absl::StrCat("key:", i);
    bool in = KeyInSample(key, 0.1);
    EXPECT_EQ(in, KeyInSample(key, 0.1));
    // A key in a smaller sample is in every larger one.
    if (KeyInSample(key, 0.05)) {
      EXPECT_TRUE(in) << key;
    }
    chosen += in;
  }
  EXPECT_GT(chosen, 9500);
  EXPECT_LT(chosen, 10500);
  EXPECT_TRUE(KeyInSample("anything", 1.0));
  EXPECT_FALSE(KeyInSample("anything", 0.0));
  // FNV-1a of "" is 0xcbf29ce484222325: 0.795... of the range.
  EXPECT_TRUE(KeyInSample("", 0.8));
  EXPECT_FALSE(KeyInSample("", 0.79));
}

TEST(ParseKeyspaceDbsTest, ReadsEveryDb) {
  absl::StatusOr<std::map<int, uint64_t>> dbs = ParseKeyspaceDbs(
      "# Keyspace\r\ndb0:keys=12,expires=1,avg_ttl=5\r\ndb3:keys=4,expires=0,avg_ttl=0\r\n");
  ASSERT_TRUE(dbs.ok()) << dbs.status();
  EXPECT_EQ(*dbs, (std::map<int, uint64_t>{{0, 12}, {3, 4}}));
  EXPECT_TRUE(ParseKeyspaceDbs("# Keyspace\r\n")->empty());
  EXPECT_EQ(ParseKeyspaceDbs("dbx:keys=1\r\n").status().message(),
            "INFO keyspace: bad db in \"dbx:keys=1\"");
  EXPECT_EQ(ParseKeyspaceDbs("db1:expires=1\r\n").status().message(),
            "INFO keyspace: no keys= in \"db1:expires=1\"");
  EXPECT_EQ(ParseKeyspaceDbs("db1:keys=a,expires=1\r\n").status().message(),
            "INFO keyspace: keys= is not a number in \"db1:keys=a,expires=1\"");
}

TEST(VerifyReportTest, ProgressRateAndEta) {
  VerifyReport report;
  report.keys_total = 1000;
  report.keys_scanned = 250;
  report.keys_checked = 200;
  report.duration = absl::Seconds(2);
  EXPECT_DOUBLE_EQ(report.progress(), 0.25);
  EXPECT_DOUBLE_EQ(report.keys_per_second(), 100);
  EXPECT_EQ(report.eta(), absl::Seconds(6));  // 750 keys left at 125 keys/s
  report.precheck_keys = 200;                 // scanned in the first 1.5 s
  report.precheck_duration = absl::Milliseconds(1500);
  EXPECT_EQ(report.eta(), absl::Seconds(7.5));  // 750 keys left at 50 / 0.5 s
  report.keys_scanned = 100;                    // still in the pre-check: unknown
  EXPECT_EQ(report.eta(), absl::ZeroDuration());
  report.keys_scanned = 1200;  // keys written since the start
  EXPECT_DOUBLE_EQ(report.progress(), 1.0);
  EXPECT_EQ(report.eta(), absl::ZeroDuration());
  report.state = VerifyState::kDone;
  report.keys_total = 0;
  EXPECT_DOUBLE_EQ(report.progress(), 1.0);
  EXPECT_EQ(VerifyStateName(VerifyState::kFailed), "FAILED");
}

}  // namespace
}  // namespace reshard::engine
