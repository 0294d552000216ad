#include "engine/job/key_comparison.h"

#include <gtest/gtest.h>

namespace reshard::engine {
namespace {

KeyRead Read(std::string dump, int64_t expiry = -1) {
  KeyRead read;
  read.exists = true;
  read.dump = std::move(dump);
  read.expiry = expiry;
  return read;
}

// A DUMP payload: the value, then RDB version (2 bytes) and CRC64 (8 bytes).
std::string Dump(std::string value, char version) {
  return value + std::string(1, version) + std::string(1, 0) + std::string(8, version);
}

TEST(KeyReadTest, FromReplies) {
  std::optional<KeyRead> read =
      KeyReadFromReplies(RespValue::BulkString("payload"), RespValue::Integer(1700000000000));
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->exists);
  EXPECT_EQ(read->dump, "payload");
  EXPECT_EQ(read->expiry, 1700000000000);
  read = KeyReadFromReplies(RespValue::Null(), RespValue::Integer(-2));
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(read->exists);
  EXPECT_EQ(KeyReadFromReplies(RespValue::BulkString("p"), RespValue::Integer(-1))->expiry, -1);
  EXPECT_FALSE(KeyReadFromReplies(RespValue::Error("ERR x"), RespValue::Integer(-1)).has_value());
  EXPECT_FALSE(KeyReadFromReplies(RespValue::BulkString("p"), RespValue::Error("ERR unknown "
                                                                               "command"))
                   .has_value());
}

TEST(DumpValuesEqualTest, TheTrailerIsLeftOut) {
  EXPECT_TRUE(DumpValuesEqual(Dump("value", 10), Dump("value", 12)));
  EXPECT_FALSE(DumpValuesEqual(Dump("value", 10), Dump("valuf", 10)));
  EXPECT_FALSE(DumpValuesEqual(Dump("abc", 10), Dump("abcd", 10)));
  EXPECT_TRUE(DumpValuesEqual("short", "short"));
  EXPECT_FALSE(DumpValuesEqual("short", "shorT"));
}

TEST(CompareExpiryTest, ToleranceNoneAndAbsolute) {
  EXPECT_EQ(CompareExpiry(-1, -1, 2000, false, 0), std::nullopt);
  EXPECT_EQ(CompareExpiry(10000, 8000, 2000, false, 0), std::nullopt);
  EXPECT_EQ(CompareExpiry(10000, 7999, 2000, false, 0), "ttl: source 10000 ms, target 7999 ms");
  EXPECT_EQ(CompareExpiry(-1, 5000, 2000, false, 0), "ttl: source none, target 5000 ms");
  EXPECT_EQ(CompareExpiry(5000, -1, 2000, false, 0), "ttl: source 5000 ms, target none");
  // PEXPIRETIME values are shown as the time left.
  EXPECT_EQ(CompareExpiry(-1, 1000060000, 2000, true, 1000000000),
            "ttl: source none, target 60000 ms");
  EXPECT_EQ(CompareExpiry(-1, 5, 0, true, 0, "field 'f' ttl"),
            "field 'f' ttl: source none, target 5 ms");
}

TEST(QuickCompareTest, Verdicts) {
  KeyDifference difference;
  KeyRead absent;
  EXPECT_EQ(QuickCompare(Read("v"), Read("v"), 2000, false, 0, &difference), QuickVerdict::kEqual);
  EXPECT_EQ(QuickCompare(absent, absent, 2000, false, 0, &difference), QuickVerdict::kEqual);
  EXPECT_EQ(QuickCompare(absent, Read("v"), 2000, false, 0, &difference),
            QuickVerdict::kSourceAbsent);
  EXPECT_EQ(QuickCompare(Read("v"), absent, 2000, false, 0, &difference), QuickVerdict::kDifferent);
  EXPECT_EQ(difference.kind, VerifyProblemKind::kMissing);
  EXPECT_EQ(difference.detail, "not on the target");
  EXPECT_EQ(QuickCompare(Read("v"), Read("w"), 2000, false, 0, &difference),
            QuickVerdict::kValuesDiffer);
  EXPECT_EQ(QuickCompare(Read("v"), Read("v", 60000), 2000, false, 0, &difference),
            QuickVerdict::kDifferent);
  EXPECT_EQ(difference.kind, VerifyProblemKind::kDifferentTtl);
  EXPECT_EQ(difference.detail, "ttl: source none, target 60000 ms");
}

TEST(SameSourceReadTest, PresencePayloadAndExpiry) {
  KeyRead absent;
  EXPECT_TRUE(SameSourceRead(absent, absent, 2000));
  EXPECT_FALSE(SameSourceRead(absent, Read("v"), 2000));
  EXPECT_TRUE(SameSourceRead(Read("v", 5000), Read("v", 4000), 2000));  // a PTTL moves
  EXPECT_FALSE(SameSourceRead(Read("v", 5000), Read("v", 1000), 2000));
  EXPECT_FALSE(SameSourceRead(Read("v"), Read("v", 5000), 2000));
  EXPECT_FALSE(SameSourceRead(Read("v"), Read("w"), 2000));
}

}  // namespace
}  // namespace reshard::engine
