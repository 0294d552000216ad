#include "engine/rdb/rdb_format.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"

namespace reshard::engine::rdb {
namespace {

TEST(ParseRdbMagicTest, RedisAndValkeyMagics) {
  EXPECT_EQ(*ParseRdbMagic("REDIS0001"), (RdbMagic{RdbFlavour::kRedis, 1}));
  EXPECT_EQ(*ParseRdbMagic("REDIS0011"), (RdbMagic{RdbFlavour::kRedis, 11}));
  EXPECT_EQ(*ParseRdbMagic("REDIS0013"), (RdbMagic{RdbFlavour::kRedis, kMaxRedisVersion}));
  EXPECT_EQ(*ParseRdbMagic("VALKEY080"), (RdbMagic{RdbFlavour::kValkey, kValkeyVersion}));
}

TEST(ParseRdbMagicTest, LooksAtTheFirstNineBytesOnly) {
  EXPECT_EQ(*ParseRdbMagic(std::string("REDIS0010\xfa\x09redis-ver", 20)),
            (RdbMagic{RdbFlavour::kRedis, 10}));
}

TEST(ParseRdbMagicTest, BadMagicIsDataLoss) {
  EXPECT_EQ(ParseRdbMagic("HELLO0010").status(),
            absl::DataLossError("not an RDB: bad magic 'HELLO0010'"));
  EXPECT_EQ(ParseRdbMagic("REDIS00x1").status(),
            absl::DataLossError("not an RDB: bad magic 'REDIS00x1'"));
  EXPECT_EQ(ParseRdbMagic("VALKEY-80").status(),
            absl::DataLossError("not an RDB: bad magic 'VALKEY-80'"));
  EXPECT_EQ(ParseRdbMagic("REDIS001").status(),
            absl::DataLossError("not an RDB: bad magic 'REDIS001'"));
  EXPECT_EQ(ParseRdbMagic(std::string("\0\xff", 2)).status(),
            absl::DataLossError("not an RDB: bad magic '\\x00\\xff'"));
}

TEST(ParseRdbMagicTest, UnsupportedVersionIsFailedPrecondition) {
  EXPECT_EQ(
      ParseRdbMagic("REDIS0000").status(),
      absl::FailedPreconditionError("rdb offset 0: header: unsupported RDB version 0 ('REDIS0000'; "
                                    "this reshardd reads REDIS0001 to REDIS0013 and VALKEY080)"));
  EXPECT_EQ(ParseRdbMagic("REDIS0014").status(),
            absl::FailedPreconditionError(
                "rdb offset 0: header: unsupported RDB version 14 ('REDIS0014'; this reshardd "
                "reads REDIS0001 to REDIS0013 and VALKEY080)"));
  EXPECT_EQ(ParseRdbMagic("REDIS0080").status(),
            absl::FailedPreconditionError(
                "rdb offset 0: header: unsupported RDB version 80 ('REDIS0080'; this reshardd "
                "reads REDIS0001 to REDIS0013 and VALKEY080)"));
  EXPECT_EQ(ParseRdbMagic("VALKEY079").status(),
            absl::FailedPreconditionError(
                "rdb offset 0: header: unsupported RDB version 79 ('VALKEY079'; this reshardd "
                "reads REDIS0001 to REDIS0013 and VALKEY080)"));
  EXPECT_EQ(ParseRdbMagic("VALKEY011").status(),
            absl::FailedPreconditionError(
                "rdb offset 0: header: unsupported RDB version 11 ('VALKEY011'; this reshardd "
                "reads REDIS0001 to REDIS0013 and VALKEY080)"));
}

TEST(RdbFormatTest, KnownTypesAreZeroToSevenAndNineToTwentySix) {
  for (int t = 0; t < 256; ++t) {
    bool expected = (t >= 0 && t <= 7) || (t >= 9 && t <= 26);
    EXPECT_EQ(IsKnownType(static_cast<uint8_t>(t)), expected) << t;
  }
}

TEST(RdbFormatTest, SharedBytesMeanWhatTheFlavourSays) {
  EXPECT_TRUE(IsValkeyHash2(22, RdbFlavour::kValkey));
  EXPECT_FALSE(IsValkeyHash2(22, RdbFlavour::kRedis));
  EXPECT_TRUE(IsSlotImport(243, RdbFlavour::kValkey));
  EXPECT_FALSE(IsSlotImport(243, RdbFlavour::kRedis));
  EXPECT_TRUE(IsKeyMeta(243, RdbMagic{RdbFlavour::kRedis, 13}));
  EXPECT_FALSE(IsKeyMeta(243, RdbMagic{RdbFlavour::kRedis, 12}));
  EXPECT_FALSE(IsKeyMeta(243, RdbMagic{RdbFlavour::kValkey, 80}));
}

TEST(RdbFormatTest, TypeNames) {
  EXPECT_EQ(TypeName(kTypeString, RdbFlavour::kRedis), "string");
  EXPECT_EQ(TypeName(kTypeStreamListpacks4, RdbFlavour::kRedis), "stream-v4");
  EXPECT_EQ(TypeName(22, RdbFlavour::kRedis), "hash-metadata-pre-ga");
  EXPECT_EQ(TypeName(22, RdbFlavour::kValkey), "hash2");
  EXPECT_EQ(TypeName(8, RdbFlavour::kRedis), "type-8");
  // Every known type has a name of its own.
  for (int t = 0; t < 256; ++t) {
    std::string name = TypeName(static_cast<uint8_t>(t), RdbFlavour::kRedis);
    EXPECT_EQ(name.rfind("type-", 0) == 0, !IsKnownType(static_cast<uint8_t>(t))) << t;
  }
}

}  // namespace
}  // namespace reshard::engine::rdb
