// HumanBytes: byte counts as people read them.

#include "client/output/byte_format.h"

#include <gtest/gtest.h>

namespace reshard::client {
namespace {

TEST(ByteFormatTest, BytesThenOneDecimalBinaryUnits) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(3ull << 30), "3.0 GiB");
  EXPECT_EQ(HumanBytes(5ull << 50), "5120.0 TiB");  // TiB is the largest unit
}

}  // namespace
}  // namespace reshard::client
