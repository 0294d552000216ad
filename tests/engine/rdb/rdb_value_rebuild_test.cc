// RebuildValueCommands on RDB value bytes written out by hand, in every
// encoding it rebuilds; what it cannot rebuild, and corrupt bytes, are
// errors naming the key.

#include "engine/rdb/rdb_value_rebuild.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/rdb/rdb_format.h"

namespace reshard::engine {
namespace {

using Commands = RebuildCommands;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// A short RDB string (6-bit length).
std::string Str(std::string_view s) { return static_cast<char>(s.size()) + std::string(s); }

std::string Double(double d) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &d, 8);
  return out;
}

TEST(RebuildValueTest, AStringIsASetThenAppends) {
  // 20 bytes a command: 3 of the value after the key and 16 of slack.
  EXPECT_EQ(*RebuildValueCommands("k", rdb::kTypeString, Str("hello"), 20),
            (Commands{{"SET", "k", "hel"}, {"APPEND", "k", "lo"}}));
  // An integer-encoded string.
  EXPECT_EQ(*RebuildValueCommands("k", rdb::kTypeString, Bytes({0xc1, 0x39, 0x30}), 1000),
            (Commands{{"SET", "k", "12345"}}));
}

TEST(RebuildValueTest, SetsHashesAndPlainListsInCommandsOfBoundedSize) {
  // "SADD" + "k" is 5 bytes: a, b fit in 8, cc starts the next command.
  EXPECT_EQ(*RebuildValueCommands("k", rdb::kTypeSet, "\x03" + Str("a") + Str("b") + Str("cc"), 8),
            (Commands{{"DEL", "k"}, {"SADD", "k", "a", "b"}, {"SADD", "k", "cc"}}));
  EXPECT_EQ(*RebuildValueCommands("h", rdb::kTypeHash,
                                  "\x02" + Str("f1") + Str("v1") + Str("f2") + Str("v2"), 9),
            (Commands{{"DEL", "h"}, {"HSET", "h", "f1", "v1"}, {"HSET", "h", "f2", "v2"}}));
  EXPECT_EQ(*RebuildValueCommands("l", rdb::kTypeList, "\x02" + Str("x") + Str("y"), 100),
            (Commands{{"DEL", "l"}, {"RPUSH", "l", "x", "y"}}));
}

TEST(RebuildValueTest, SortedSetScoresAreExact) {
  EXPECT_EQ(
      *RebuildValueCommands(
          "z", rdb::kTypeZset2,
          "\x03" + Str("a") + Double(1.5) + Str("b") + Double(0.1) + Str("c") + Double(-INFINITY),
          100),
      (Commands{{"DEL", "z"}, {"ZADD", "z", "1.5", "a", "0.10000000000000001", "b", "-inf", "c"}}));
}

TEST(RebuildValueTest, QuicklistOfListpacksAndPlainNodes) {
  // A listpack: "a" (6-bit string), 5 (7-bit uint), 300 (13-bit int).
  std::string lp = Bytes({15, 0, 0, 0, 3, 0, 0x81, 'a', 2, 0x05, 1, 0xc1, 0x2c, 2, 0xff});
  std::string value = "\x02" + Bytes({2}) + Str(lp) + Bytes({1}) + Str("big");
  EXPECT_EQ(*RebuildValueCommands("l", rdb::kTypeListQuicklist2, value, 100),
            (Commands{{"DEL", "l"}, {"RPUSH", "l", "a", "5", "300", "big"}}));
  // A negative 13-bit integer: -2 is 0x1ffe.
  std::string negative = Bytes({10, 0, 0, 0, 1, 0, 0xdf, 0xfe, 2, 0xff});
  EXPECT_EQ(*RebuildValueCommands("l", rdb::kTypeListQuicklist2,
                                  "\x01" + Bytes({2}) + Str(negative), 100),
            (Commands{{"DEL", "l"}, {"RPUSH", "l", "-2"}}));
}

TEST(RebuildValueTest, QuicklistOfZiplists) {
  // "x" (6-bit string), 7 (immediate), -2 (int16).
  std::string zl = Bytes(
      {20, 0, 0, 0, 15, 0, 0, 0, 3, 0, 0x00, 0x01, 'x', 0x03, 0xf8, 0x02, 0xc0, 0xfe, 0xff, 0xff});
  EXPECT_EQ(*RebuildValueCommands("l", rdb::kTypeListQuicklist, "\x01" + Str(zl), 100),
            (Commands{{"DEL", "l"}, {"RPUSH", "l", "x", "7", "-2"}}));
}

TEST(RebuildValueTest, WhatCannotBeRebuiltOrIsCorruptIsAnError) {
  absl::StatusOr<Commands> stream = RebuildValueCommands("s", rdb::kTypeStreamListpacks3, "x", 100);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stream.status().message(),
            "key 's' (RDB type 21, 1 bytes) cannot be rebuilt in parts: raise proto-max-bulk-len "
            "on the target");
  absl::StatusOr<Commands> big =
      RebuildValueCommands("k", rdb::kTypeSet, "\x01" + Str("0123456789"), 8);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(big.status().message(),
            "key 'k' holds an element of 10 bytes, more than one command to the target may carry "
            "(8 bytes): raise proto-max-bulk-len on the target");
  absl::StatusOr<Commands> short_set =
      RebuildValueCommands("k", rdb::kTypeSet, "\x03" + Str("a"), 8);
  EXPECT_EQ(short_set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(short_set.status().message().find("value of 'k'"), std::string::npos)
      << short_set.status();
  absl::StatusOr<Commands> trailing =
      RebuildValueCommands("k", rdb::kTypeSet, "\x01" + Str("a") + "zz", 8);
  EXPECT_EQ(trailing.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(trailing.status().message(), "value of 'k': bytes left after its last element");
  std::string bad_lp = Bytes({9, 0, 0, 0, 1, 0, 0x81, 'a', 0xff});  // no back-length
  absl::StatusOr<Commands> lp =
      RebuildValueCommands("l", rdb::kTypeListQuicklist2, "\x01" + Bytes({2}) + Str(bad_lp), 100);
  EXPECT_EQ(lp.status().code(), absl::StatusCode::kDataLoss) << lp.status();
}

}  // namespace
}  // namespace reshard::engine
