#include "engine/link/cluster_slot_map.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

RespValue Str(std::string s) { return RespValue::BulkString(std::move(s)); }
RespValue Int(int64_t n) { return RespValue::Integer(n); }

RespValue Node(std::string ip, int port, std::string role) {
  return RespValue::Array({Str("id"), Str("abc"), Str("port"), Int(port), Str("ip"), Str(ip),
                           Str("endpoint"), Str(ip), Str("role"), Str(role), Str("health"),
                           Str("online")});
}

TEST(ClusterSlotMapTest, FromShardsTakesEachShardsMaster) {
  RespValue reply = RespValue::Array(
      {RespValue::Array({Str("slots"), RespValue::Array({Int(0), Int(8191)}), Str("nodes"),
                         RespValue::Array({Node("10.0.0.2", 7001, "replica"),
                                           Node("10.0.0.1", 7000, "master")})}),
       RespValue::Array({Str("slots"), RespValue::Array({Int(8192), Int(16383)}), Str("nodes"),
                         RespValue::Array({Node("", 7002, "master")})})});
  absl::StatusOr<ClusterSlotMap> map = ClusterSlotMap::FromShards(reply, {"127.0.0.1", 7002});
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->masters().size(), 2u);
  EXPECT_EQ(map->masters()[0].ToString(), "10.0.0.1:7000");
  EXPECT_EQ(map->masters()[1].ToString(), "127.0.0.1:7002");  // its own empty ip
  EXPECT_EQ(map->owner(0), 0);
  EXPECT_EQ(map->owner(16383), 1);
  EXPECT_EQ(map->UnservedSlots(), "");
}

TEST(ClusterSlotMapTest, FromSlotsAndUnservedSlots) {
  RespValue reply = RespValue::Array({RespValue::Array(
      {Int(100), Int(16383), RespValue::Array({Str("127.0.0.1"), Int(7000), Str("id")})})});
  absl::StatusOr<ClusterSlotMap> map = ClusterSlotMap::FromSlots(reply, {"127.0.0.1", 7000});
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->UnservedSlots(), "0-99");
  EXPECT_EQ(map->owner(5), -1);
  EXPECT_EQ(map->SetOwner(5, {"127.0.0.1", 7001}), 1);
  EXPECT_EQ(map->UnservedSlots(), "0-4,6-99");
  int count = 0;
  EXPECT_EQ(map->SlotsOf(0, &count), "100-16383");
  EXPECT_EQ(count, 16284);
  EXPECT_EQ(map->SetOwner(200, {"127.0.0.1", 7001}), 1);
  EXPECT_EQ(map->SlotsOf(1, &count), "5,200");
  EXPECT_EQ(count, 2);
  EXPECT_EQ(map->SlotsOf(0, &count), "100-199,201-16383");
  EXPECT_EQ(count, 16283);
  EXPECT_EQ(map->SlotsOf(7, &count), "");
  EXPECT_EQ(count, 0);
}

TEST(ClusterSlotMapTest, ParsesRedirections) {
  absl::StatusOr<ClusterRedirect> moved = ParseClusterRedirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->address.ToString(), "127.0.0.1:6381");
  absl::StatusOr<ClusterRedirect> ask = ParseClusterRedirect("ASK 1 [::1]:7000");
  ASSERT_TRUE(ask.ok());
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->address.host, "::1");
  EXPECT_FALSE(ParseClusterRedirect("MOVED 16384 a:1").ok());
  EXPECT_FALSE(ParseClusterRedirect("ERR nope").ok());
}

}  // namespace
}  // namespace reshard::engine
