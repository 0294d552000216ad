#include "engine/rdb/rdb_version.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

TEST(RdbVersionTest, RedisReleases) {
  EXPECT_EQ(RdbVersionOfRelease("Redis", 3, 0), 6);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 3, 2), 7);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 4, 0), 8);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 5, 0), 9);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 6, 2), 9);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 7, 0), 10);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 7, 2), 11);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 7, 4), 12);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 8, 4), 12);
  EXPECT_EQ(RdbVersionOfRelease("Redis", 8, 6), 13);
  EXPECT_EQ(RdbVersionOfRelease("Valkey", 8, 0), 11);
  EXPECT_EQ(RdbVersionOfRelease("Valkey", 9, 0), 80);
}

TEST(RdbVersionTest, FromInfo) {
  auto redis =
      ServerVersionFromInfo("# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n");
  ASSERT_TRUE(redis.has_value());
  EXPECT_EQ(redis->ToString(), "Redis 6.0.16 (RDB 9)");
  // Valkey reports a compatibility redis_version too; valkey_version wins.
  auto valkey = ServerVersionFromInfo(
      "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n");
  ASSERT_TRUE(valkey.has_value());
  EXPECT_EQ(valkey->ToString(), "Valkey 8.0.1 (RDB 11)");
  EXPECT_FALSE(ServerVersionFromInfo("# Server\r\nuptime:5\r\n").has_value());
  EXPECT_FALSE(ServerVersionFromInfo("redis_version:garbage\r\n").has_value());
}

}  // namespace
}  // namespace reshard::engine
