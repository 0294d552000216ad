#include "engine/rdb/rdb_memory_reader.h"

#include <gtest/gtest.h>
#include <lzf.h>

#include <string>

namespace reshard::engine {
namespace {

TEST(DecodeRdbStringTest, PlainIntegerAndLzfStrings) {
  EXPECT_EQ(*DecodeRdbString(std::string("\x05hello") + "trailing"), "hello");
  // 14-bit length.
  std::string long_value(300, 'x');
  EXPECT_EQ(*DecodeRdbString(std::string("\x41\x2c") + long_value), long_value);
  // Integer encodings: 8, 16 and 32 bits, little-endian.
  EXPECT_EQ(*DecodeRdbString(std::string("\xc0\xf9", 2)), "-7");
  EXPECT_EQ(*DecodeRdbString(std::string("\xc1\x39\x30", 3)), "12345");
  EXPECT_EQ(*DecodeRdbString(std::string("\xc2\x15\xcd\x5b\x07", 5)), "123456789");
  // LZF: 0xc3, compressed length, original length, the compressed bytes.
  std::string code = "#!lua name=lib\n" + std::string(200, 'a') + "redis.register_function";
  std::string compressed(code.size(), '\0');
  unsigned n = lzf_compress(code.data(), code.size(), compressed.data(), compressed.size());
  ASSERT_GT(n, 0u);
  ASSERT_LT(n, 64u);
  ASSERT_LT(code.size(), 16384u);
  std::string encoded = "\xc3";
  encoded += static_cast<char>(n);
  encoded += static_cast<char>(0x40 | (code.size() >> 8));
  encoded += static_cast<char>(code.size() & 0xff);
  encoded.append(compressed.data(), n);
  EXPECT_EQ(*DecodeRdbString(encoded), code);
}

TEST(DecodeRdbStringTest, TruncatedAndCorruptStringsAreDataLoss) {
  absl::StatusOr<std::string> truncated = DecodeRdbString("\x05hel");
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(truncated.status().message(),
            "rdb offset 0: string: truncated inside a string (4 bytes)");
  // An LZF payload that does not expand to its stated length.
  absl::StatusOr<std::string> corrupt = DecodeRdbString(std::string("\xc3\x03\x0a\x1f\x00\x00", 6));
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kDataLoss) << corrupt.status();
  EXPECT_NE(corrupt.status().message().find("string"), std::string::npos) << corrupt.status();
}

}  // namespace
}  // namespace reshard::engine
