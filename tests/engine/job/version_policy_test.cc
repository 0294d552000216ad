// What the job decides from server versions: which snapshots a target loads,
// which SET form it takes, and what reshardd announces to a Valkey source.

#include "engine/job/version_policy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reshard::engine {
namespace {

ServerVersion Version(std::string product, std::string version, int major, int minor, int rdb) {
  return ServerVersion{std::move(product), std::move(version), major, minor, rdb};
}

const ServerVersion kRedis60 = Version("Redis", "6.0.16", 6, 0, 9);
const ServerVersion kRedis62 = Version("Redis", "6.2.14", 6, 2, 9);
const ServerVersion kRedis70 = Version("Redis", "7.0.15", 7, 0, 10);
const ServerVersion kRedis80 = Version("Redis", "8.0.6", 8, 0, 12);
const ServerVersion kValkey80 = Version("Valkey", "8.0.1", 8, 0, 11);
const ServerVersion kValkey90 = Version("Valkey", "9.0.3", 9, 0, 80);
const ServerVersion kValkey91 = Version("Valkey", "9.1.2", 9, 1, 80);

TEST(VersionPolicyTest, RdbNumbersCompareButValkey080IsItsOwnFormat) {
  EXPECT_TRUE(CanLoadRdb(kRedis70, 10));
  EXPECT_TRUE(CanLoadRdb(kRedis70, 9));
  EXPECT_FALSE(CanLoadRdb(kRedis70, 11));
  EXPECT_TRUE(CanLoadRdb(kValkey90, 80));
  EXPECT_TRUE(CanLoadRdb(kValkey90, 11));
  EXPECT_FALSE(CanLoadRdb(kRedis80, 80)) << "RDB 12 < 80, but Redis cannot read VALKEY080";
  EXPECT_FALSE(CanLoadRdb(kValkey80, 80));
}

TEST(VersionPolicyTest, ATargetTooOldIsNamedWithBothVersions) {
  absl::Status status = CheckTargetCanLoad("b", kRedis60, kRedis70, 10);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "target 'b' runs Redis 6.0.16 (RDB 9), which cannot load the snapshot of the source "
            "(Redis 7.0.15 (RDB 10), RDB 10): upgrade the target to a release that reads RDB 10");
  EXPECT_EQ(CheckTargetCanLoad("b", kRedis60, std::nullopt, 10).message(),
            "target 'b' runs Redis 6.0.16 (RDB 9), which cannot load the snapshot of the source "
            "(RDB 10, RDB 10): upgrade the target to a release that reads RDB 10");
  EXPECT_TRUE(CheckTargetCanLoad("b", kRedis70, kRedis70, 10).ok());
}

TEST(VersionPolicyTest, CrossEnginePayloadsAreRefusedSayingWhy) {
  // Redis 7.4+ formats are foreign to every Valkey, even one with a larger number.
  EXPECT_FALSE(CanLoadRdb(kValkey91, 12));
  EXPECT_FALSE(CanLoadRdb(kValkey80, 13));
  EXPECT_TRUE(CanLoadRdb(kValkey91, 11)) << "Redis <= 7.2 formats load on Valkey";
  EXPECT_EQ(CheckTargetCanLoad("c", kValkey91, kRedis80, 12).message(),
            "target 'c' runs Valkey 9.1.2 (RDB 80), which cannot load the snapshot of the source "
            "(Redis 8.0.6 (RDB 12), RDB 12): Redis 7.4 and later write RDB 12 and up, a format "
            "Valkey refuses as foreign (rdb-version-check strict); use a Redis target of the "
            "source's version or newer");
  EXPECT_EQ(CheckTargetCanLoad("c", kRedis80, kValkey91, 80).message(),
            "target 'c' runs Redis 8.0.6 (RDB 12), which cannot load the snapshot of the source "
            "(Valkey 9.1.2 (RDB 80), RDB 80): VALKEY080 is Valkey's own format, which no Redis "
            "loads; use a Valkey 9 target");
}

TEST(VersionPolicyTest, SetPxatFromRedis62AndEveryValkey) {
  EXPECT_FALSE(AcceptsSetPxat(kRedis60));
  EXPECT_TRUE(AcceptsSetPxat(kRedis62));
  EXPECT_TRUE(AcceptsSetPxat(kRedis70));
  EXPECT_TRUE(AcceptsSetPxat(kValkey80));
}

TEST(VersionPolicyTest, ReplconfVersionsAreValkeys) {
  std::optional<ServerVersion> version = ServerVersionFromReplconf("9.1.2");
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(version->ToString(), "Valkey 9.1.2 (RDB 80)");
  EXPECT_EQ(version->major, 9);
  EXPECT_EQ(version->minor, 1);
  EXPECT_EQ(ServerVersionFromReplconf("8.0.1")->rdb_version, 11);
  EXPECT_FALSE(ServerVersionFromReplconf("").has_value());
  EXPECT_FALSE(ServerVersionFromReplconf("9.1").has_value());
  EXPECT_FALSE(ServerVersionFromReplconf("9.x.2").has_value());
}

TEST(VersionPolicyTest, ValkeyNineChoosesItsRdbFromTheAnnouncement) {
  EXPECT_EQ(RdbVersionSentBy(kRedis70), 10);
  EXPECT_EQ(RdbVersionSentBy(kValkey80), 11);
  EXPECT_EQ(RdbVersionSentBy(kValkey91), std::nullopt);
}

TEST(VersionPolicyTest, AnnouncesTheNewestReadWhenEveryTargetIsValkeyNine) {
  EXPECT_EQ(VersionToAnnounce({kValkey91, kValkey91}), "9.1.2");
  EXPECT_EQ(VersionToAnnounce({Version("Valkey", "9.3.0", 9, 3, 80)}), "9.1.2")
      << "never more than the newest format reshardd reads";
  EXPECT_EQ(VersionToAnnounce({kValkey91, kValkey90}), "9.0.3") << "the oldest target's";
}

TEST(VersionPolicyTest, AnnouncesNothingUnlessEveryTargetLoadsValkey080) {
  EXPECT_EQ(VersionToAnnounce({kValkey91, kValkey80}), std::nullopt);
  EXPECT_EQ(VersionToAnnounce({kValkey91, kRedis80}), std::nullopt);
  EXPECT_EQ(VersionToAnnounce({kValkey91, std::nullopt}), std::nullopt) << "an unknown target";
  EXPECT_EQ(VersionToAnnounce({}), std::nullopt);
}

}  // namespace
}  // namespace reshard::engine
