#include "engine/crc64.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace reshard::engine {
namespace {

// Bitwise reference: one bit at a time, straight from the definition.
uint64_t ReferenceCrc64(uint64_t crc, std::string_view data) {
  for (unsigned char c : data) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1) ? (crc >> 1) ^ 0x95AC9329AC4BC9B5ULL : crc >> 1;
  }
  return crc;
}

std::string PseudoRandomBytes(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

TEST(Crc64Test, KnownVectors) {
  EXPECT_EQ(Crc64(0, ""), 0u);
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
  // An empty Redis 7.0 RDB ("REDIS0010" + EOF) is small enough to check by hand
  // against the bitwise reference.
  EXPECT_EQ(Crc64(0, "REDIS0010\xff"), ReferenceCrc64(0, "REDIS0010\xff"));
}

// A real file written by Redis: the trailer is the CRC of everything before it.
TEST(Crc64Test, MatchesRedisWrittenTrailer) {
  std::ifstream in(std::string(RESHARD_FIXTURES_DIR) + "/librdb/multiple_dbs.rdb",
                   std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(file.size(), 9u + 1 + 8);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i)
    stored = (stored << 8) | static_cast<unsigned char>(file[file.size() - 8 + i]);
  EXPECT_EQ(Crc64(0, std::string_view(file).substr(0, file.size() - 8)), stored);
}

TEST(Crc64Test, MatchesBitwiseReferenceForAllLengths) {
  std::string data = PseudoRandomBytes(300);
  for (size_t len = 0; len <= data.size(); ++len) {
    std::string_view v(data.data(), len);
    ASSERT_EQ(Crc64(0, v), ReferenceCrc64(0, v)) << "len " << len;
  }
}

TEST(Crc64Test, IncrementalEqualsOneShotAtEverySplit) {
  std::string data = PseudoRandomBytes(257);
  uint64_t whole = Crc64(0, data);
  for (size_t split = 0; split <= data.size(); ++split) {
    std::string_view v(data);
    uint64_t crc = Crc64(Crc64(0, v.substr(0, split)), v.substr(split));
    ASSERT_EQ(crc, whole) << "split " << split;
  }
  // Three pieces, at unaligned offsets.
  for (size_t a = 0; a < 40; ++a) {
    for (size_t b = a; b < 80; b += 3) {
      std::string_view v(data);
      uint64_t crc = Crc64(Crc64(Crc64(0, v.substr(0, a)), v.substr(a, b - a)), v.substr(b));
      ASSERT_EQ(crc, whole) << a << " " << b;
    }
  }
}

}  // namespace
}  // namespace reshard::engine
