// Which sources get CLIENT PAUSE ... WRITE and CLIENT UNPAUSE; the pause
// itself is tested against real servers in tests/integration/cutover_test.cc
// (Redis 7.0 and 6.0).

#include "engine/link/source_pause.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

ServerVersion Version(std::string product, int major, int minor) {
  ServerVersion v;
  v.product = std::move(product);
  v.major = major;
  v.minor = minor;
  return v;
}

TEST(HasWritePauseTest, RedisFrom62AndEveryValkey) {
  EXPECT_FALSE(HasWritePause(Version("Redis", 6, 0)));
  EXPECT_FALSE(HasWritePause(Version("Redis", 5, 0)));
  EXPECT_TRUE(HasWritePause(Version("Redis", 6, 2)));
  EXPECT_TRUE(HasWritePause(Version("Redis", 7, 0)));
  EXPECT_TRUE(HasWritePause(Version("Redis", 8, 0)));
  EXPECT_TRUE(HasWritePause(Version("Valkey", 7, 2)));
  EXPECT_TRUE(HasWritePause(Version("Valkey", 9, 1)));
}

}  // namespace
}  // namespace reshard::engine
