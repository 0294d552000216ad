// ParseReplicationInfo on INFO replication replies as Redis 7 writes them,
// and WhyNoPartialSync against masterTryPartialResynchronization's rules.

#include "engine/link/replication_info.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reshard::engine {
namespace {

using ::testing::HasSubstr;

constexpr char kReplid[] = "8f3c9d0e1a2b3c4d5e6f708192a3b4c5d6e7f801";
constexpr char kOld[] = "1111111111111111111111111111111111111111";

// A master whose backlog holds offsets 1001 to 5000.
constexpr char kMaster[] =
    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
    "master_failover_state:no-failover\r\n"
    "master_replid:8f3c9d0e1a2b3c4d5e6f708192a3b4c5d6e7f801\r\n"
    "master_replid2:1111111111111111111111111111111111111111\r\n"
    "master_repl_offset:5000\r\nsecond_repl_offset:3000\r\nrepl_backlog_active:1\r\n"
    "repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:1001\r\n"
    "repl_backlog_histlen:4000\r\n";

TEST(ReplicationInfoTest, ParsesAMaster) {
  absl::StatusOr<ReplicationInfo> info = ParseReplicationInfo(kMaster);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->role, "master");
  EXPECT_EQ(info->replid, kReplid);
  EXPECT_EQ(info->replid2, kOld);
  EXPECT_EQ(info->master_repl_offset, 5000u);
  EXPECT_EQ(info->second_repl_offset, 3000);
  EXPECT_TRUE(info->backlog_active);
  EXPECT_EQ(info->backlog_size, 1048576u);
  EXPECT_EQ(info->backlog_first_byte_offset, 1001u);
  EXPECT_EQ(info->backlog_histlen, 4000u);
}

TEST(ReplicationInfoTest, ParsesAReplica) {
  absl::StatusOr<ReplicationInfo> info = ParseReplicationInfo(
      "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\n"
      "master_link_status:up\r\nmaster_replid:" +
      std::string(kReplid) + "\r\nsecond_repl_offset:-1\r\n");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->role, "slave");
  EXPECT_EQ(info->master_host, "127.0.0.1");
  EXPECT_EQ(info->master_port, 7001);
  EXPECT_EQ(info->second_repl_offset, -1);
}

TEST(ReplicationInfoTest, NamesAFieldThatIsNotANumber) {
  absl::StatusOr<ReplicationInfo> info =
      ParseReplicationInfo("role:master\r\nrepl_backlog_size:lots\r\n");
  EXPECT_EQ(info.status().message(), "INFO replication: repl_backlog_size is not a number: 'lots'");
  EXPECT_EQ(ParseReplicationInfo("# Server\r\nredis_version:7.0.15\r\n").status().message(),
            "INFO replication has no role");
}

TEST(ReplicationInfoTest, WhyNoPartialSyncFollowsTheMastersRules) {
  ReplicationInfo info = *ParseReplicationInfo(kMaster);
  EXPECT_EQ(WhyNoPartialSync(info, kReplid, 1001), "");
  EXPECT_EQ(WhyNoPartialSync(info, kReplid, 5001), "") << "nothing missed yet";
  EXPECT_EQ(WhyNoPartialSync(info, kOld, 3000), "") << "the previous id, up to its last offset";
  EXPECT_THAT(WhyNoPartialSync(info, kOld, 3002), HasSubstr("the source's replication id is"));
  EXPECT_THAT(WhyNoPartialSync(info, "2222222222222222222222222222222222222222", 2000),
              HasSubstr("(the source restarted or failed over)"));
  EXPECT_EQ(WhyNoPartialSync(info, kReplid, 1000),
            "the source's backlog starts at offset 1001, after the job's offset 999: it moved "
            "on while reshardd was down (repl-backlog-size 1048576)");
  EXPECT_THAT(WhyNoPartialSync(info, kReplid, 5002), HasSubstr("ends at offset 5000"));
  info.backlog_active = false;
  EXPECT_THAT(WhyNoPartialSync(info, kReplid, 2000), HasSubstr("has no replication backlog"));
}

TEST(ReplicationInfoTest, InfoFieldFindsALine) {
  EXPECT_EQ(InfoField("# Server\r\nredis_version:7.0.15\r\nrun_id:abc\r\n", "run_id"), "abc");
  EXPECT_EQ(InfoField("# Server\r\nredis_version:7.0.15\r\n", "run_id"), "");
}

}  // namespace
}  // namespace reshard::engine
