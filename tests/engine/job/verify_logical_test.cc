#include "engine/job/verify_logical.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace reshard::engine {
namespace {

RespValue Bulk(std::string s) { return RespValue::BulkString(std::move(s)); }
RespValue Array(std::vector<RespValue> elements) { return RespValue::Array(std::move(elements)); }
RespValue Strings(std::vector<std::string> items) {
  std::vector<RespValue> elements;
  for (std::string& s : items) elements.push_back(Bulk(std::move(s)));
  return Array(std::move(elements));
}

TEST(CanonicalValueTest, SetsAndHashesIgnoreOrder) {
  EXPECT_EQ(CanonicalValue("set", {Strings({"b", "a"})}),
            CanonicalValue("set", {Strings({"a", "b"})}));
  EXPECT_EQ(CanonicalValue("hash", {Strings({"f", "1", "g", "2"})}),
            CanonicalValue("hash", {Strings({"g", "2", "f", "1"})}));
  EXPECT_NE(CanonicalValue("hash", {Strings({"f", "1", "g", "2"})}),
            CanonicalValue("hash", {Strings({"f", "2", "g", "1"})}));
  EXPECT_NE(CanonicalValue("list", {Strings({"b", "a"})}),
            CanonicalValue("list", {Strings({"a", "b"})}));
  EXPECT_EQ(CanonicalValue("string", {Bulk("ab")}), "string|2:ab;|");
  EXPECT_EQ(LogicalCommands("zset", "k"),
            (std::vector<std::vector<std::string>>{{"ZRANGE", "k", "0", "-1", "WITHSCORES"}}));
  EXPECT_EQ(
      LogicalCommands("stream", "k"),
      (std::vector<std::vector<std::string>>{{"XINFO", "STREAM", "k", "FULL", "COUNT", "0"}}));
}

// XINFO STREAM FULL as a replica may answer it: its own radix-tree sizes,
// consumer seen/active times and PEL delivery times.
RespValue StreamInfo(int64_t tree_nodes, int64_t seen, int64_t delivered, int64_t pending_count,
                     std::string last_delivered) {
  RespValue group_pel = Array({Array({Bulk("1-1"), Bulk("alice"), RespValue::Integer(delivered),
                                      RespValue::Integer(pending_count)})});
  RespValue consumer_pel = Array(
      {Array({Bulk("1-1"), RespValue::Integer(delivered), RespValue::Integer(pending_count)})});
  RespValue consumer =
      Array({Bulk("name"), Bulk("alice"), Bulk("seen-time"), RespValue::Integer(seen),
             Bulk("active-time"), RespValue::Integer(seen), Bulk("pel-count"),
             RespValue::Integer(1), Bulk("pel"), consumer_pel});
  RespValue group =
      Array({Bulk("name"), Bulk("g"), Bulk("last-delivered-id"), Bulk(std::move(last_delivered)),
             Bulk("pel-count"), RespValue::Integer(1), Bulk("pel"), group_pel, Bulk("consumers"),
             Array({consumer})});
  return Array({Bulk("length"), RespValue::Integer(1), Bulk("radix-tree-keys"),
                RespValue::Integer(1), Bulk("radix-tree-nodes"), RespValue::Integer(tree_nodes),
                Bulk("entries"), Array({Array({Bulk("1-1"), Strings({"a", "1"})})}), Bulk("groups"),
                Array({group})});
}

TEST(CanonicalValueTest, StreamsWithoutWhatAReplicaSetsItself) {
  EXPECT_EQ(CanonicalValue("stream", {StreamInfo(2, 1000, 1000, 1, "1-1")}),
            CanonicalValue("stream", {StreamInfo(3, 2000, 1005, 1, "1-1")}));
  EXPECT_NE(CanonicalValue("stream", {StreamInfo(2, 1000, 1000, 1, "1-1")}),
            CanonicalValue("stream", {StreamInfo(2, 1000, 1000, 2, "1-1")}));  // delivery count
  EXPECT_NE(CanonicalValue("stream", {StreamInfo(2, 1000, 1000, 1, "1-1")}),
            CanonicalValue("stream", {StreamInfo(2, 1000, 1000, 1, "0-0")}));
}

TEST(CompareLogicalTest, ValueThenFieldExpiries) {
  LogicalValue source{"hash", "hash|f;1|", {{"f", 1000060000}}};
  LogicalValue target = source;
  EXPECT_EQ(CompareLogical(source, target, 2000, 1000000000), std::nullopt);
  target.field_expiry["f"] = 1000061000;  // within the tolerance
  EXPECT_EQ(CompareLogical(source, target, 2000, 1000000000), std::nullopt);
  target.field_expiry.erase("f");
  std::optional<KeyDifference> d = CompareLogical(source, target, 2000, 1000000000);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, VerifyProblemKind::kDifferentTtl);
  EXPECT_EQ(d->detail, "field 'f' ttl: source 60000 ms, target none");
  target = source;
  target.canonical = "hash|f;2|";
  d = CompareLogical(source, target, 2000, 1000000000);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, VerifyProblemKind::kDifferentValue);
  EXPECT_EQ(d->detail, "value: hash differs (9 bytes canonical on the source, 9 on the target)");
  target.type = "string";
  EXPECT_EQ(CompareLogical(source, target, 2000, 0)->detail, "type: source hash, target string");
}

}  // namespace
}  // namespace reshard::engine
