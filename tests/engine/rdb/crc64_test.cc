#include "engine/rdb/crc64.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

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

// Each implementation behind Crc64, and Crc64 itself in both dispatch modes.
struct Impl {
  const char* name;
  uint64_t (*fn)(uint64_t, std::string_view);
};

uint64_t Crc64ForcedTable(uint64_t crc, std::string_view data) {
  internal::ForceCrc64TableForTesting(true);
  uint64_t r = Crc64(crc, data);
  internal::ForceCrc64TableForTesting(false);
  return r;
}

std::vector<Impl> Impls() {
  std::vector<Impl> impls = {{"Crc64", &Crc64},
                             {"Crc64 (forced table)", &Crc64ForcedTable},
                             {"Crc64Table", &internal::Crc64Table}};
  if (internal::Crc64ClmulAvailable()) impls.push_back({"Crc64Clmul", &internal::Crc64Clmul});
  return impls;
}

TEST(Crc64Test, ClmulIsUsedWhereAvailable) {
  if (!internal::Crc64ClmulAvailable()) GTEST_SKIP() << "no PCLMULQDQ on this CPU";
  EXPECT_EQ(internal::Crc64Clmul(0, "123456789"), 0xe9c6d914c4b8d9caULL);
  std::string data = PseudoRandomBytes(4096);
  EXPECT_EQ(internal::Crc64Clmul(0, data), ReferenceCrc64(0, data));
}

// Every length 0..4096, each at a random alignment and with a random initial
// CRC, against the bitwise reference: covers the short path, every tail length
// after the 16-byte and 128-byte folding loops, and the lane set-up.
TEST(Crc64Test, EveryImplMatchesReferenceForLengthsUpTo4096) {
  std::mt19937_64 rng(20240601);
  std::string buffer = PseudoRandomBytes(4096 + 64);
  std::vector<Impl> impls = Impls();
  for (size_t len = 0; len <= 4096; ++len) {
    size_t offset = rng() % 64;
    uint64_t init = (len % 3 == 0) ? 0 : rng();
    std::string_view v(buffer.data() + offset, len);
    uint64_t want = ReferenceCrc64(init, v);
    for (const Impl& impl : impls) {
      ASSERT_EQ(impl.fn(init, v), want) << impl.name << " len " << len << " offset " << offset;
    }
  }
}

TEST(Crc64Test, EveryImplIsIncrementalAtEverySplit) {
  std::string data = PseudoRandomBytes(4096 + 13);
  const uint64_t whole = ReferenceCrc64(0, data);
  for (const Impl& impl : Impls()) {
    std::string_view v(data);
    for (size_t split = 0; split <= v.size(); ++split) {
      uint64_t crc = impl.fn(impl.fn(0, v.substr(0, split)), v.substr(split));
      ASSERT_EQ(crc, whole) << impl.name << " split " << split;
    }
  }
}

// Random pieces (as the reader and writers produce) mixing both paths.
TEST(Crc64Test, RandomPiecesAcrossImplsMatchOneShot) {
  std::mt19937_64 rng(7);
  std::string data = PseudoRandomBytes(3 << 20);
  const uint64_t whole = internal::Crc64Table(0, data);
  std::vector<Impl> impls = Impls();
  for (int round = 0; round < 20; ++round) {
    std::string_view v(data);
    uint64_t crc = 0;
    while (!v.empty()) {
      size_t max_piece = (rng() % 2) ? 300 : 200000;
      size_t n = std::min<size_t>(v.size(), rng() % max_piece);
      crc = impls[rng() % impls.size()].fn(crc, v.substr(0, n));
      v.remove_prefix(n);
    }
    ASSERT_EQ(crc, whole) << "round " << round;
  }
}

TEST(Crc64Test, LargeBuffersAgreeAcrossImpls) {
  // Room for the longest length at the largest offset below.
  std::string data = PseudoRandomBytes((1 << 20) + 4095 + 15);
  for (size_t len : {size_t{1} << 20, (size_t{1} << 20) + 1, (size_t{1} << 20) + 127,
                     (size_t{1} << 20) + 4095}) {
    for (size_t offset : {0, 1, 8, 15}) {
      std::string_view v(data.data() + offset, len);
      uint64_t want = internal::Crc64Table(0x0123456789abcdefULL, v);
      for (const Impl& impl : Impls()) {
        ASSERT_EQ(impl.fn(0x0123456789abcdefULL, v), want)
            << impl.name << " len " << len << " offset " << offset;
      }
    }
  }
}

}  // namespace
}  // namespace reshard::engine
