// Addresses that name the same server under other names.

#include "engine/io/address_identity.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reshard::engine {
namespace {

using ::testing::Contains;

TEST(AddressIdentityTest, ResolvesNamesAndKeepsNumbers) {
  EXPECT_THAT(ResolveHostAddresses("localhost"), Contains("127.0.0.1"));
  EXPECT_EQ(ResolveHostAddresses("10.1.2.3"), std::vector<std::string>{"10.1.2.3"});
  EXPECT_EQ(ResolveHostAddresses("::1"), std::vector<std::string>{"::1"});
  EXPECT_TRUE(ResolveHostAddresses("no-such-host.invalid").empty());
}

TEST(AddressIdentityTest, TheSameServerUnderAnotherName) {
  EXPECT_TRUE(SameServerAddress({"localhost", 6379}, {"127.0.0.1", 6379}));
  EXPECT_TRUE(SameServerAddress({"127.0.0.1", 6379}, {"127.0.0.1", 6379}));
  EXPECT_TRUE(SameServerAddress({"0.0.0.0", 6379}, {"127.0.0.1", 6379}))
      << "a wildcard listener is on every local address";
  EXPECT_FALSE(SameServerAddress({"localhost", 6380}, {"127.0.0.1", 6379}));
  EXPECT_FALSE(SameServerAddress({"10.255.255.1", 6379}, {"127.0.0.1", 6379}));
  EXPECT_FALSE(SameServerAddress({"no-such-host.invalid", 6379}, {"127.0.0.1", 6379}));
}

}  // namespace
}  // namespace reshard::engine
