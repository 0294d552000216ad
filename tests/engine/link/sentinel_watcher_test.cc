// SentinelWatcher's parsers: the get-master-addr-by-name reply and the
// +switch-master message (the watching itself runs against a real Sentinel
// in tests/integration/source_failover_test.cc).

#include "engine/link/sentinel_watcher.h"

#include <gtest/gtest.h>

#include <string>

namespace reshard::engine {
namespace {

RespValue Bulk(std::string text) {
  RespValue value;
  value.type = RespValue::Type::kBulkString;
  value.str = std::move(text);
  return value;
}

TEST(SentinelWatcherParseTest, MasterAddrReply) {
  RespValue reply;
  reply.type = RespValue::Type::kArray;
  reply.elements = {Bulk("10.0.0.2"), Bulk("6380")};
  absl::StatusOr<HostPort> master = ParseMasterAddrReply(reply, "mymaster");
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_EQ(master->ToString(), "10.0.0.2:6380");

  RespValue nil;
  nil.type = RespValue::Type::kNull;
  EXPECT_EQ(ParseMasterAddrReply(nil, "other").status(),
            absl::NotFoundError("the Sentinel does not monitor a master named 'other'"));

  reply.elements = {Bulk("10.0.0.2"), Bulk("http")};
  EXPECT_EQ(ParseMasterAddrReply(reply, "mymaster").status().code(),
            absl::StatusCode::kInvalidArgument);

  RespValue error;
  error.type = RespValue::Type::kError;
  error.str = "NOAUTH Authentication required.";
  EXPECT_EQ(ParseMasterAddrReply(error, "mymaster").status(),
            absl::FailedPreconditionError(
                "SENTINEL get-master-addr-by-name mymaster: NOAUTH Authentication required."));
}

TEST(SentinelWatcherParseTest, SwitchMasterOfTheWatchedMasterOnly) {
  std::optional<HostPort> switched =
      ParseSwitchMaster("mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster");
  ASSERT_TRUE(switched.has_value());
  EXPECT_EQ(switched->ToString(), "127.0.0.1:6380");
  EXPECT_FALSE(ParseSwitchMaster("other 127.0.0.1 6379 127.0.0.1 6380", "mymaster").has_value());
  EXPECT_FALSE(ParseSwitchMaster("mymaster 127.0.0.1 6379 127.0.0.1", "mymaster").has_value());
  EXPECT_FALSE(ParseSwitchMaster("mymaster 127.0.0.1 6379 127.0.0.1 0", "mymaster").has_value());
}

}  // namespace
}  // namespace reshard::engine
