#include "engine/rdb/rdb_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/io/string_byte_source.h"
#include "engine/rdb/rdb_format.h"
#include "tests/support/rdb_builder.h"
#include "tests/support/recording_rdb_handler.h"

namespace reshard::engine {
namespace {

using ::reshard::engine::testing::RdbBuilder;
using ::reshard::engine::testing::RecordingRdbHandler;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Reads `rdb` handing out at most max_chunk bytes per source step.
absl::Status Parse(const std::string& rdb, RecordingRdbHandler* h,
                   size_t max_chunk = StringByteSource::kUnlimited, RdbReader::Limits limits = {}) {
  StringByteSource src(rdb, max_chunk);
  RdbReader reader(&src, h, limits);
  return RunRdbReaderSync(reader);
}

// Runs the same input through a whole-buffer source and a one-byte-per-step
// source; both must see identical events and values.
void ExpectSameAtEveryChunking(const std::string& rdb) {
  RecordingRdbHandler whole, bytewise, small;
  ASSERT_TRUE(Parse(rdb, &whole).ok());
  ASSERT_TRUE(Parse(rdb, &bytewise, 1).ok());
  ASSERT_TRUE(Parse(rdb, &small, 7).ok());
  EXPECT_EQ(whole.events, bytewise.events);
  EXPECT_EQ(whole.events, small.events);
  ASSERT_EQ(whole.keys.size(), bytewise.keys.size());
  for (const auto& [k, v] : whole.keys) {
    EXPECT_EQ(v.value, bytewise.keys[k].value) << k;
    EXPECT_EQ(v.raw_header, bytewise.keys[k].raw_header) << k;
    EXPECT_EQ(v.value, small.keys[k].value) << k;
  }
}

TEST(RdbReaderTest, MinimalRdb10) {
  std::string rdb = RdbBuilder(10)
                        .Aux("redis-ver", "7.0.15")
                        .SelectDb(0)
                        .ResizeDb(1, 0)
                        .StringKey("user:1", "hello")
                        .Finish();
  RecordingRdbHandler h;
  ASSERT_TRUE(Parse(rdb, &h).ok());
  EXPECT_THAT(h.events, ElementsAre("header 10 REDIS0010", "aux redis-ver=7.0.15", "select 0",
                                    "entry db=0 type=0 key=user:1 expire=-1", "end-entry", "end"));
  EXPECT_EQ(h.keys["user:1"].value, std::string("\x05hello"));
  EXPECT_EQ(h.keys["user:1"].raw_header, std::string("\x00\x06user:1", 8));
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, LengthEncodings) {
  std::string v63(63, 'a'), v64(64, 'b'), v16383(16383, 'c'), v16384(16384, 'd');
  std::string v70k(70000, 'e');
  RdbBuilder b(10);
  b.SelectDb(0);
  b.StringKey("l63", v63).StringKey("l64", v64).StringKey("l16383", v16383);
  b.StringKey("l16384", v16384).StringKey("l70000", v70k);
  // Explicit wide encodings of small numbers are legal and must be decoded.
  b.Byte(0).Len32(3).Raw("k32").Len64(4).Raw("v-64");
  b.Byte(0).Len64(3).Raw("k64").Byte(0x40).Byte(2).Raw("vv");
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  ASSERT_TRUE(Parse(rdb, &h).ok());
  EXPECT_EQ(h.keys["l63"].value, std::string(1, 63) + v63);
  EXPECT_EQ(h.keys["l64"].value, std::string("\x40\x40", 2) + v64);
  EXPECT_EQ(h.keys["l16383"].value, std::string("\x7f\xff", 2) + v16383);
  EXPECT_EQ(h.keys["l16384"].value, std::string("\x80\x00\x00\x40\x00", 5) + v16384);
  EXPECT_EQ(h.keys["l70000"].value, std::string("\x80\x00\x01\x11\x70", 5) + v70k);
  EXPECT_EQ(h.keys["k32"].value, std::string("\x81\0\0\0\0\0\0\0\x04v-64", 13));
  EXPECT_EQ(h.keys["k64"].raw_header, std::string("\x00\x81\0\0\0\0\0\0\0\x03k64", 13));
  EXPECT_EQ(h.keys["k64"].value, std::string("\x40\x02vv", 4));
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, IntegerEncodedKeysAreSigned) {
  RdbBuilder b(9);
  b.SelectDb(0);
  b.Byte(0).Int8Str(-5).Str("a");
  b.Byte(0).Int8Str(127).Str("b");
  b.Byte(0).Int8Str(-128).Str("c");
  b.Byte(0).Int16Str(-300).Str("d");
  b.Byte(0).Int16Str(32767).Str("e");
  b.Byte(0).Int32Str(-70000).Str("f");
  b.Byte(0).Int32Str(2147483647).Str("g");
  b.Byte(0).Int32Str(-2147483647 - 1).Int8Str(-1);  // integer value too
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  ASSERT_TRUE(Parse(rdb, &h).ok());
  EXPECT_THAT(h.order, ElementsAre("-5", "127", "-128", "-300", "32767", "-70000", "2147483647",
                                   "-2147483648"));
  EXPECT_EQ(h.keys["-5"].raw_header, std::string("\x00\xc0\xfb", 3));
  EXPECT_EQ(h.keys["-2147483648"].value, std::string("\xc0\xff", 2));
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, LzfKeysAndAux) {
  std::string long_key = "user:" + std::string(200, 'x') + ":profile";
  RdbBuilder b(10);
  b.Byte(rdb::kOpAux).LzfStr("lua-" + std::string(100, 'q')).LzfStr(std::string(80, 'z'));
  b.SelectDb(0);
  b.Byte(0).LzfStr(long_key).LzfStr(std::string(500, 'v'));
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  ASSERT_TRUE(Parse(rdb, &h).ok());
  EXPECT_EQ(h.aux["lua-" + std::string(100, 'q')], std::string(80, 'z'));
  ASSERT_EQ(h.order.size(), 1u);
  EXPECT_EQ(h.order[0], long_key);
  EXPECT_EQ(static_cast<uint8_t>(h.keys[long_key].value[0]), 0xC3);
  ExpectSameAtEveryChunking(rdb);
}

// One value of every type, hand-built; the reader must report exactly the
// bytes that were built as the value.
struct TypedValue {
  uint8_t type;
  std::string value;
};

std::vector<TypedValue> EveryType() {
  using B = RdbBuilder;
  std::vector<TypedValue> v;
  v.push_back({0, B::Fragment().Int16Str(1234).bytes()});
  v.push_back({1, B::Fragment().Len(3).Str("a").Int8Str(7).LzfStr(std::string(40, 'l')).bytes()});
  v.push_back({2, B::Fragment().Len(2).Str("m1").Str("m2").bytes()});
  // zset with text doubles: "1.5", NaN, +inf, -inf.
  v.push_back({3, B::Fragment()
                      .Len(4)
                      .Str("a")
                      .Byte(3)
                      .Raw("1.5")
                      .Str("b")
                      .Byte(253)
                      .Str("c")
                      .Byte(254)
                      .Str("d")
                      .Byte(255)
                      .bytes()});
  v.push_back({4, B::Fragment().Len(2).Str("f1").Str("v1").Str("f2").Int32Str(-9).bytes()});
  v.push_back(
      {5, B::Fragment().Len(2).Str("a").Le(0x3ff8000000000000, 8).Str("b").Le(0, 8).bytes()});
  // MODULE_2: module id, then SINT, UINT, FLOAT, DOUBLE, STRING, EOF.
  v.push_back({7, B::Fragment()
                      .Len64(0x1234567890ULL)
                      .Len(1)
                      .Len(5)
                      .Len(2)
                      .Len(70000)
                      .Len(3)
                      .Le(0, 4)
                      .Len(4)
                      .Le(0, 8)
                      .Len(5)
                      .Str("mod-string")
                      .Len(0)
                      .bytes()});
  for (uint8_t t : {9, 10, 11, 12, 13, 16, 17, 20, 23}) {
    v.push_back({t, B::Fragment().Str(std::string(30 + t, static_cast<char>('a' + t))).bytes()});
  }
  v.push_back({14, B::Fragment().Len(2).Str("zl1").LzfStr(std::string(100, 'z')).bytes()});
  v.push_back({18, B::Fragment().Len(2).Len(2).Str("packed").Len(1).Str("plain").bytes()});
  v.push_back({22, B::Fragment()
                       .Len(2)
                       .Len64(0x3fffffffe4a7ULL)
                       .Str("f1")
                       .Str("v1")
                       .Len(0)
                       .Str("f2")
                       .Str("v2")
                       .bytes()});
  v.push_back({24, B::Fragment()
                       .Le(1700000000000ULL, 8)
                       .Len(2)
                       .Len(5)
                       .Str("f")
                       .Str("v")
                       .Len(0)
                       .Str("g")
                       .Str("w")
                       .bytes()});
  v.push_back({25, B::Fragment().Le(1700000000000ULL, 8).Str("listpack-ex-blob").bytes()});
  return v;
}

TEST(RdbReaderTest, EveryTypeIsSkippedExactly) {
  RdbBuilder b(12);
  b.Aux("redis-ver", "7.4.0").SelectDb(0);
  std::vector<TypedValue> values = EveryType();
  for (const TypedValue& tv : values) {
    b.Byte(tv.type).Str("k" + std::to_string(tv.type)).Raw(tv.value);
  }
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  absl::Status s = Parse(rdb, &h);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(h.keys.size(), values.size());
  for (const TypedValue& tv : values) {
    const auto& k = h.keys["k" + std::to_string(tv.type)];
    EXPECT_EQ(k.type, tv.type);
    EXPECT_EQ(k.value, tv.value) << "type " << int(tv.type);
  }
  ExpectSameAtEveryChunking(rdb);
}

std::string StreamValue(int v) {
  RdbBuilder b = RdbBuilder::Fragment();
  b.Len(2);  // listpack nodes
  b.Str(std::string(16, '\1')).Str("listpack-1");
  b.Str(std::string(16, '\2')).LzfStr(std::string(64, 'p'));
  b.Len(7).Len(1700000000123ULL).Len(4);  // length, last id (ms > 2^40)
  if (v >= 2) b.Len(1700000000000ULL).Len(0).Len(0).Len(0).Len(9);
  b.Len(2);  // groups
  for (int g = 0; g < 2; ++g) {
    b.Str("group" + std::to_string(g)).Len(1700000000100ULL).Len(1);
    if (v >= 2) b.Len(3);
    b.Len(2);  // PEL
    for (int i = 0; i < 2; ++i) b.Raw(std::string(16, 'i')).Le(1700000000200ULL, 8).Len(i + 1);
    b.Len(1);  // consumers
    b.Str("consumer").Le(1700000000300ULL, 8);
    if (v >= 3) b.Le(1700000000400ULL, 8);
    b.Len(2).Raw(std::string(16, 'i')).Raw(std::string(16, 'j'));
  }
  if (v >= 4) {
    b.Len(100).Len(1000).Len(1);  // idmp duration, max entries, producers
    b.Str("producer-1")
        .Len(2)
        .Str("iid-1")
        .Len(1700000000000ULL)
        .Len(0)
        .Str("iid-2")
        .Len(1700000000001ULL)
        .Len(0);
    b.Len(2).Len(1);  // iids added, duplicates
  }
  return b.bytes();
}

TEST(RdbReaderTest, StreamsV1ToV4) {
  RdbBuilder b(13);
  b.SelectDb(0);
  const uint8_t types[] = {15, 19, 21, 26};
  for (int v = 1; v <= 4; ++v)
    b.Byte(types[v - 1]).Str("s" + std::to_string(v)).Raw(StreamValue(v));
  // An empty stream with no groups.
  b.Byte(15).Str("empty").Len(0).Len(0).Len(0).Len(0).Len(0);
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  absl::Status s = Parse(rdb, &h);
  ASSERT_TRUE(s.ok()) << s;
  for (int v = 1; v <= 4; ++v) EXPECT_EQ(h.keys["s" + std::to_string(v)].value, StreamValue(v));
  EXPECT_EQ(h.keys["empty"].value, std::string(5, '\0'));
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, GlobalsAuxExpiryAndPrefixOpcodes) {
  RdbBuilder b(10);
  b.Aux("redis-ver", "7.0.0").Aux("repl-stream-db", "0");
  std::string module_aux = RdbBuilder::Fragment()
                               .Byte(247)
                               .Len64(0x9876543210ULL)
                               .Len(2)
                               .Len(1)
                               .Len(5)
                               .Str("aux-data")
                               .Len(0)
                               .bytes();
  b.Raw(module_aux);
  std::string function2 = RdbBuilder::Fragment().Byte(245).Str("#!lua name=lib\n...").bytes();
  b.Raw(function2);
  std::string function_pre_ga =
      RdbBuilder::Fragment().Byte(246).Str("f").Str("LUA").Len(1).Str("desc").Str("code").bytes();
  b.Raw(function_pre_ga);
  b.SelectDb(3).ResizeDb(2, 1);
  b.ExpireMs(1893456000000ULL).Byte(rdb::kOpIdle).Len(12).StringKey("ttl", "v");
  b.Byte(rdb::kOpFreq).Byte(5).StringKey("lfu", "v");
  b.Byte(rdb::kOpExpireTime).Le(1893456000, 4).StringKey("old-ttl", "v");
  b.Byte(rdb::kOpSlotInfo).Len(100).Len(2).Len(1);
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  absl::Status s = Parse(rdb, &h);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(
      h.events,
      ElementsAre("header 10 REDIS0010", "aux redis-ver=7.0.0", "aux repl-stream-db=0",
                  "global 247 " + absl::CHexEscape(module_aux),
                  "global 245 " + absl::CHexEscape(function2),
                  "global 246 " + absl::CHexEscape(function_pre_ga), "select 3",
                  "entry db=3 type=0 key=ttl expire=1893456000000", "end-entry",
                  "entry db=3 type=0 key=lfu expire=-1", "end-entry",
                  "entry db=3 type=0 key=old-ttl expire=1893456000000", "end-entry", "end"));
  EXPECT_EQ(h.keys["ttl"].raw_header, RdbBuilder::Fragment()
                                          .ExpireMs(1893456000000ULL)
                                          .Byte(248)
                                          .Len(12)
                                          .Byte(0)
                                          .Str("ttl")
                                          .bytes());
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, KeyMetaRdb13) {
  RdbBuilder b(13);
  b.SelectDb(0);
  std::string prefix = RdbBuilder::Fragment()
                           .ExpireMs(1893456000000ULL)
                           .Byte(243)
                           .Len(2)
                           .Le(0x11223344, 4)
                           .Len(2)
                           .Len(77)
                           .Len(0)
                           .Le(0x55667788, 4)
                           .Len(5)
                           .Str("meta")
                           .Len(0)
                           .bytes();
  b.Raw(prefix).Byte(0).Str("with-meta").Str("v");
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  absl::Status s = Parse(rdb, &h);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(h.keys["with-meta"].raw_header, prefix + std::string("\x00\x09with-meta", 11));
  EXPECT_EQ(h.keys["with-meta"].expire_ms, 1893456000000LL);
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, Valkey80Hash2AndSlotImport) {
  RdbBuilder b(80, /*valkey=*/true);
  b.Aux("valkey-ver", "9.0.1");
  std::string slot_import = RdbBuilder::Fragment()
                                .Byte(243)
                                .Str(std::string(40, 'n'))
                                .Len(2)
                                .Len(0)
                                .Len(100)
                                .Len(200)
                                .Len(300)
                                .bytes();
  b.Raw(slot_import);
  b.SelectDb(0);
  std::string hash2 = RdbBuilder::Fragment()
                          .Len(2)
                          .Str("F1")
                          .Str("V1")
                          .Le(1700000000000ULL, 8)
                          .Str("F2")
                          .Str("V2")
                          .Le(~0ULL, 8)
                          .bytes();
  b.Byte(22).Str("h").Raw(hash2);
  std::string rdb = b.Finish();
  RecordingRdbHandler h;
  absl::Status s = Parse(rdb, &h);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(h.events[0], "header 80 VALKEY080");
  EXPECT_EQ(h.events[2], "global 243 " + absl::CHexEscape(slot_import));
  EXPECT_EQ(h.keys["h"].value, hash2);
  ExpectSameAtEveryChunking(rdb);
}

TEST(RdbReaderTest, OldVersionsWithoutChecksum) {
  std::string rdb = RdbBuilder(3).SelectDb(0).StringKey("a", "1").Finish();
  EXPECT_EQ(rdb.substr(rdb.size() - 1), "\xff");
  RecordingRdbHandler h;
  ASSERT_TRUE(Parse(rdb, &h).ok());
  EXPECT_TRUE(h.ended);
  // A zero trailer means "checksum disabled".
  std::string no_crc = RdbBuilder(8).SelectDb(0).StringKey("a", "1").Finish(false);
  RecordingRdbHandler h2;
  ASSERT_TRUE(Parse(no_crc, &h2).ok());
  EXPECT_TRUE(h2.ended);
}

TEST(RdbReaderTest, HandOverTailStaysUnconsumed) {
  std::string rdb = RdbBuilder(10).SelectDb(0).StringKey("a", "1").Finish();
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  for (size_t chunk : {StringByteSource::kUnlimited, size_t{1}, size_t{5}}) {
    StringByteSource src(rdb + ping, chunk);
    RecordingRdbHandler h;
    RdbReader reader(&src, &h);
    ASSERT_TRUE(RunRdbReaderSync(reader).ok());
    EXPECT_EQ(src.consumed(), rdb.size());
    // The reader never asked for more than the RDB: nothing of the tail was
    // even buffered, except what an unlimited source had up front.
    std::string rest = std::string(src.Available()) + ping.substr(ping.size() - src.pending());
    EXPECT_EQ(rest, ping) << chunk;
    if (chunk != StringByteSource::kUnlimited) {
      EXPECT_EQ(src.Available().size(), 0u);
    }
  }
}

// The reader hashes and consumes parsed bytes in batches rather than per
// field: an RDB of many small keys, far longer than a batch, must verify, be
// delivered whole and end with exactly the RDB consumed, at any chunking; a
// flipped value byte anywhere must still fail the CRC.
TEST(RdbReaderTest, ManySmallKeysPastTheConsumeBatch) {
  RdbBuilder b(10);
  b.SelectDb(0);
  for (int i = 0; i < 20000; ++i) {
    b.StringKey("key:" + std::to_string(i), "value-" + std::to_string(i * 7));
  }
  const std::string rdb = b.Finish();
  ASSERT_GT(rdb.size(), 256u << 10);
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  for (size_t chunk : {StringByteSource::kUnlimited, size_t{4096}, size_t{70000}}) {
    StringByteSource src(rdb + ping, chunk);
    RecordingRdbHandler h;
    RdbReader reader(&src, &h);
    ASSERT_TRUE(RunRdbReaderSync(reader).ok()) << chunk;
    EXPECT_TRUE(h.ended);
    EXPECT_EQ(src.consumed(), rdb.size()) << chunk;
    ASSERT_EQ(h.keys.size(), 20000u);
    EXPECT_EQ(h.keys["key:19999"].value, "\x0cvalue-139993");
  }
  for (size_t at : {rdb.size() / 5, rdb.size() / 2, rdb.size() - 40}) {
    std::string bad = rdb;
    size_t v = bad.find("value-", at);
    ASSERT_NE(v, std::string::npos);
    bad[v] = 'V';
    for (size_t chunk : {StringByteSource::kUnlimited, size_t{4096}}) {
      RecordingRdbHandler h;
      absl::Status s = Parse(bad, &h, chunk);
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << at << " " << chunk;
      EXPECT_THAT(s.message(), HasSubstr("CRC64 mismatch"));
      EXPECT_FALSE(h.ended);
    }
  }
}

TEST(RdbReaderTest, TruncatedAtEveryOffsetIsDataLoss) {
  RdbBuilder b(10);
  b.Aux("redis-ver", "7.0.0").SelectDb(0).ResizeDb(3, 1);
  b.ExpireMs(1893456000000ULL).StringKey("k1", "v1");
  b.Byte(0).LzfStr(std::string(70, 'k')).Int8Str(3);
  b.Byte(15).Str("s").Raw(StreamValue(1));
  std::string rdb = b.Finish();
  for (size_t cut = 0; cut < rdb.size(); ++cut) {
    for (size_t chunk : {StringByteSource::kUnlimited, size_t{1}}) {
      RecordingRdbHandler h;
      absl::Status s = Parse(rdb.substr(0, cut), &h, chunk);
      ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << cut << ": " << s;
      EXPECT_THAT(s.message(), HasSubstr("truncated")) << cut;
      EXPECT_FALSE(h.ended);
    }
  }
}

TEST(RdbReaderTest, ExactErrorMessages) {
  {
    std::string rdb = RdbBuilder(10).SelectDb(0).StringKey("a", "1").Finish();
    rdb[rdb.size() - 1] ^= 1;
    RecordingRdbHandler h;
    absl::Status s = Parse(rdb, &h);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("rdb offset 17: CRC64 trailer: CRC64 mismatch: trailer says "));
    EXPECT_FALSE(h.ended);
  }
  {
    std::string rdb = RdbBuilder(10).SelectDb(0).Byte(8).Str("a").Str("1").Finish();
    RecordingRdbHandler h;
    absl::Status s = Parse(rdb, &h);
    EXPECT_EQ(s, absl::DataLossError("rdb offset 11: opcode: unknown type or opcode 8"));
  }
  {
    std::string rdb = RdbBuilder(10).SelectDb(0).Byte(4).Str("user:1").Byte(0x83).Finish();
    RecordingRdbHandler h;
    absl::Status s = Parse(rdb, &h);
    EXPECT_EQ(s, absl::DataLossError(
                     "rdb offset 19: value of key 'user:1' (type 4): bad length encoding 0x83"));
  }
  {
    std::string rdb = RdbBuilder(8).SelectDb(0).Byte(6).Str("m").Len(1).Finish();
    RecordingRdbHandler h;
    absl::Status s = Parse(rdb, &h);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("value of key 'm' (type 6): module value of type 6 (MODULE_PRE_GA"));
  }
  {
    RecordingRdbHandler h;
    EXPECT_EQ(Parse(RdbBuilder(14).Finish(), &h),
              absl::FailedPreconditionError(
                  "rdb offset 0: header: unsupported RDB version 14 ('REDIS0014'; this reshardd "
                  "reads REDIS0001 to REDIS0013 and VALKEY080)"));
    EXPECT_EQ(Parse(RdbBuilder(79, true).Finish(), &h),
              absl::FailedPreconditionError(
                  "rdb offset 0: header: unsupported RDB version 79 ('VALKEY079'; this reshardd "
                  "reads REDIS0001 to REDIS0013 and VALKEY080)"));
    EXPECT_EQ(Parse("HELLO0010", &h),
              absl::DataLossError("rdb offset 0: header: not an RDB: bad magic 'HELLO0010'"));
  }
  {
    // Truncated inside a key: names the offset and the key being read.
    std::string rdb = RdbBuilder(10).SelectDb(0).Byte(0).Len(10).Raw("abc").bytes();
    RecordingRdbHandler h;
    absl::Status s = Parse(rdb, &h);
    EXPECT_EQ(s, absl::DataLossError("rdb offset 16: key (type 0): truncated: needed 7 bytes, "
                                     "input has 0 left"));
  }
}

// Types and opcodes of other dialects or newer versions are refused where they
// stand, never read with another format's layout (issue: Valkey's 22/23/242 and
// Redis's 22-26 share numbers).
TEST(RdbReaderTest, TypesOfAnotherDialectOrANewerVersionAreRefused) {
  struct Case {
    int version;
    bool valkey;
    uint8_t type;
    std::string error;
  };
  const Case cases[] = {
      // VALKEY081 (9.2) types: a path hash, and inline UPDATE records.
      {80, true, 23, "rdb offset 11: opcode: unknown type or opcode 23"},
      {80, true, 242, "rdb offset 11: opcode: unknown type or opcode 242"},
      // Redis 7.4's hash-field-TTL types in an RDB 11 file; 8.6's stream v4 in 12.
      {11, false, 24, "rdb offset 11: opcode: unknown type or opcode 24"},
      {12, false, 26, "rdb offset 11: opcode: unknown type or opcode 26"},
      // Redis 8.8's types 27 and 28 (RDB 14 is refused at its header anyway).
      {13, false, 27, "rdb offset 11: opcode: unknown type or opcode 27"},
  };
  for (const Case& c : cases) {
    std::string rdb = RdbBuilder(c.version, c.valkey).SelectDb(0).Byte(c.type).Str("k").Finish();
    RecordingRdbHandler h;
    EXPECT_EQ(Parse(rdb, &h), absl::DataLossError(c.error))
        << "version " << c.version << (c.valkey ? " (Valkey)" : "") << " type " << int{c.type};
  }
  RecordingRdbHandler h;
  EXPECT_EQ(
      Parse(RdbBuilder(81, true).Finish(), &h),
      absl::FailedPreconditionError(
          "rdb offset 0: header: unsupported RDB version 81 ('VALKEY081'; this reshardd reads "
          "REDIS0001 to REDIS0013 and VALKEY080)"));
}

TEST(RdbReaderTest, BigValueIsStreamedInBoundedChunks) {
  std::string big(8 << 20, 'x');
  std::string rdb = RdbBuilder(10).SelectDb(0).StringKey("big", big).Finish();
  RecordingRdbHandler h;
  RdbReader::Limits limits;
  limits.max_value_chunk = 64 * 1024;
  ASSERT_TRUE(Parse(rdb, &h, 64 * 1024, limits).ok());
  EXPECT_EQ(h.keys["big"].value.size(), big.size() + 5);
  EXPECT_LE(h.max_chunk, 64u * 1024);
  EXPECT_GE(h.chunks, big.size() / (64 * 1024));
}

TEST(RdbReaderTest, UnwantedValuesAreNotDelivered) {
  std::string rdb = RdbBuilder(10).SelectDb(0).StringKey("a", "1").StringKey("b", "2").Finish();
  RecordingRdbHandler h;
  h.want_values = false;
  ASSERT_TRUE(Parse(rdb, &h).ok());
  EXPECT_EQ(h.chunks, 0u);
  EXPECT_TRUE(h.ended);
}

}  // namespace
}  // namespace reshard::engine
