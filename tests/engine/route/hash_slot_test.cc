#include "engine/route/hash_slot.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"

namespace reshard::engine {
namespace {

using namespace std::string_literals;
using ::reshard::testing::RedisClient;
using ::reshard::testing::RedisServer;
using ::reshard::testing::RedisServerOptions;

TEST(Crc16XmodemTest, CheckValue) {
  EXPECT_EQ(Crc16Xmodem("123456789"), 0x31C3);
  EXPECT_EQ(Crc16Xmodem(""), 0);
}

TEST(KeyHashSlotTest, KnownSlots) {
  EXPECT_EQ(KeyHashSlot("123456789"), 12739);
  EXPECT_EQ(KeyHashSlot(""), 0);
  EXPECT_EQ(KeyHashSlot("foo"), 12182);
  EXPECT_EQ(KeyHashSlot("bar"), 5061);
}

TEST(KeyHashSlotTest, HashTags) {
  // Only the first '{' and the first '}' after it count.
  EXPECT_EQ(KeyHashSlot("{user}:1"), KeyHashSlot("user"));
  EXPECT_EQ(KeyHashSlot("x{user}y{other}"), KeyHashSlot("user"));
  EXPECT_EQ(KeyHashSlot("{{x}}"), KeyHashSlot("{x"));
  EXPECT_EQ(KeyHashSlot("a}b{c}"), KeyHashSlot("c"));
  // Empty first tag or no closing brace: the whole key, no later tag.
  EXPECT_EQ(KeyHashSlot("{}x"), Crc16Xmodem("{}x") & 16383);
  EXPECT_EQ(KeyHashSlot("a{}{b}"), Crc16Xmodem("a{}{b}") & 16383);
  EXPECT_EQ(KeyHashSlot("{abc"), Crc16Xmodem("{abc") & 16383);
  EXPECT_EQ(KeyHashSlot("{\0}"s), KeyHashSlot("\0"s));
}

// Compares with CLUSTER KEYSLOT of a real server (a lone cluster-enabled node).
TEST(KeyHashSlotTest, AgreesWithRedisClusterKeyslot) {
  RedisServerOptions options;
  options.extra_args = {"--cluster-enabled", "yes"};
  // A cluster node also listens on port + 10000, so its port must be <= 55535
  // (regression: a free port above that made the server refuse to start).
  do {
    options.port = reshard::testing::PickFreePort();
  } while (options.port > 55535);
  auto server = RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();

  std::vector<std::string> keys = {
      "123456789", "{user}:1", "{user}:2", "{}x", "a{}{b}", "{{x}}", "}{a}",  "{a}}",
      "{",         "}",        "{}",       "",    "foo{}",  "{a{b}", "x\0y"s, "\xff\xfe{\x80}",
      "{\0}"s};
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> length(0, 24);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string braces = "{}ab";
  for (int i = 0; i < 2000; ++i) {
    std::string key;
    const int n = length(rng);
    for (int j = 0; j < n; ++j) {
      // Half the keys are biased to braces so tags of every shape show up.
      key += (i % 2 == 0) ? braces[byte(rng) % braces.size()] : static_cast<char>(byte(rng));
    }
    keys.push_back(key);
  }
  std::vector<std::vector<std::string>> commands;
  for (const std::string& key : keys) commands.push_back({"CLUSTER", "KEYSLOT", key});
  auto replies = client->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ((*replies)[i].type, RespValue::Type::kInteger) << (*replies)[i].ToString();
    EXPECT_EQ(KeyHashSlot(keys[i]), (*replies)[i].integer)
        << "key " << RespValue::BulkString(keys[i]).ToString();
  }
  EXPECT_EQ((*replies)[0].integer, 12739);
}

}  // namespace
}  // namespace reshard::engine
