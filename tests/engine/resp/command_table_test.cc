#include "engine/resp/command_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace reshard::engine {
namespace {

// The keys FindCommandKeys finds in `args`, as strings.
std::vector<std::string> Keys(const CommandTable& table, std::vector<std::string_view> args) {
  const CommandInfo* info = table.Find(args);
  EXPECT_NE(info, nullptr) << args[0];
  if (info == nullptr) return {"<unknown>"};
  std::vector<size_t> idx;
  absl::Status s = FindCommandKeys(*info, args, &idx);
  if (!s.ok()) return {s.ToString()};
  std::vector<std::string> keys;
  for (size_t i : idx) keys.emplace_back(args[i]);
  return keys;
}

using Strings = std::vector<std::string>;

TEST(CommandTableTest, FindsCommandsCaseInsensitively) {
  const CommandTable& t = CommandTable::Builtin();
  std::vector<std::string_view> set = {"sEt", "k", "v"};
  const CommandInfo* info = t.Find(set);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->name, "SET");
  EXPECT_EQ(info->arity, -3);
  EXPECT_TRUE(info->write);
  EXPECT_EQ(info->route, RouteKind::kKeyed);
  std::vector<std::string_view> xgroup = {"xgroup", "Create", "k", "g", "$"};
  ASSERT_NE(t.Find(xgroup), nullptr);
  EXPECT_EQ(t.Find(xgroup)->name, "XGROUP|CREATE");
  std::vector<std::string_view> kill = {"SCRIPT", "KILL"};
  EXPECT_EQ(t.Find(kill), nullptr);
  std::vector<std::string_view> bare = {"XGROUP"};
  EXPECT_EQ(t.Find(bare), nullptr);
  std::vector<std::string_view> unknown = {"NOSUCH"};
  EXPECT_EQ(t.Find(unknown), nullptr);
  EXPECT_EQ(t.FindByName(std::string(100, 'A')), nullptr);
  EXPECT_EQ(t.FindByName("del")->route, RouteKind::kSplitKeys);
  EXPECT_EQ(t.FindByName("mset")->route, RouteKind::kSplitKeys);
  EXPECT_EQ(t.FindByName("msetnx")->route, RouteKind::kSplitKeys);
  EXPECT_EQ(t.FindByName("flushdb")->route, RouteKind::kBroadcastInDb);
  EXPECT_EQ(t.FindByName("function|load")->route, RouteKind::kBroadcast);
  EXPECT_EQ(t.FindByName("replconf")->route, RouteKind::kIntercepted);
  EXPECT_EQ(t.FindByName("migrate"), nullptr);
}

// Which keys of a command it only reads: "r" for those, "w" for the others.
std::string ReadOnlyMask(const CommandTable& table, std::vector<std::string_view> args) {
  const CommandInfo* info = table.Find(args);
  if (info == nullptr) return "<unknown>";
  std::vector<size_t> idx;
  std::vector<uint8_t> read_only;
  if (!FindCommandKeys(*info, args, &idx, &read_only).ok() || idx.size() != read_only.size()) {
    return "<error>";
  }
  std::string mask;
  for (uint8_t r : read_only) mask += r ? 'r' : 'w';
  return mask;
}

TEST(CommandTableTest, SaysWhichKeysACommandOnlyReads) {
  const CommandTable& t = CommandTable::Builtin();
  EXPECT_EQ(ReadOnlyMask(t, {"SUNIONSTORE", "d", "a", "b"}), "wrr");
  EXPECT_EQ(ReadOnlyMask(t, {"BITOP", "AND", "d", "s1", "s2"}), "wrr");
  EXPECT_EQ(ReadOnlyMask(t, {"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}), "wrr");
  EXPECT_EQ(ReadOnlyMask(t, {"PFMERGE", "d", "a"}), "wr");
  EXPECT_EQ(ReadOnlyMask(t, {"COPY", "a", "b"}), "rw");
  EXPECT_EQ(ReadOnlyMask(t, {"GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"}), "rw");
  EXPECT_EQ(ReadOnlyMask(t, {"SORT", "k", "STORE", "d"}), "rw");
  EXPECT_EQ(ReadOnlyMask(t, {"RENAME", "a", "b"}), "ww");
  EXPECT_EQ(ReadOnlyMask(t, {"LMOVE", "a", "b", "LEFT", "RIGHT"}), "ww");
  EXPECT_EQ(ReadOnlyMask(t, {"EVAL", "s", "2", "a", "b"}), "ww");  // the script may write both
  EXPECT_EQ(ReadOnlyMask(t, {"GET", "k"}), "r");
}

TEST(CommandTableTest, FindsKeysOfEveryRuleKind) {
  const CommandTable& t = CommandTable::Builtin();
  EXPECT_EQ(Keys(t, {"SET", "k", "v", "PXAT", "1"}), Strings({"k"}));
  EXPECT_EQ(Keys(t, {"DEL", "a", "b", "c"}), Strings({"a", "b", "c"}));
  EXPECT_EQ(Keys(t, {"MSET", "a", "1", "b", "2"}), Strings({"a", "b"}));
  EXPECT_EQ(Keys(t, {"RENAME", "a", "b"}), Strings({"a", "b"}));
  EXPECT_EQ(Keys(t, {"BITOP", "AND", "d", "s1", "s2"}), Strings({"d", "s1", "s2"}));
  EXPECT_EQ(Keys(t, {"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}),
            Strings({"d", "a", "b"}));
  EXPECT_EQ(Keys(t, {"EVAL", "s", "2", "a", "b", "x"}), Strings({"a", "b"}));
  EXPECT_EQ(Keys(t, {"EVAL", "s", "0", "x"}), Strings({}));
  EXPECT_EQ(Keys(t, {"FCALL", "f", "1", "a"}), Strings({"a"}));
  EXPECT_EQ(Keys(t, {"LMPOP", "2", "a", "b", "LEFT"}), Strings({"a", "b"}));
  EXPECT_EQ(Keys(t, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", "s2", ">", ">"}),
            Strings({"s1", "s2"}));
  EXPECT_EQ(Keys(t, {"GEORADIUS", "k", "0", "0", "1", "km", "STOREDIST", "d"}),
            Strings({"k", "d"}));
  EXPECT_EQ(Keys(t, {"GEORADIUS", "k", "0", "0", "1", "km"}), Strings({"k"}));
  EXPECT_EQ(Keys(t, {"SORT", "k", "LIMIT", "0", "1", "GET", "#", "STORE", "d"}),
            Strings({"k", "d"}));
  EXPECT_EQ(Keys(t, {"SORT", "k", "BY", "STORE"}), Strings({"k"}));
  EXPECT_EQ(Keys(t, {"XGROUP", "DESTROY", "s", "g"}), Strings({"s"}));
  EXPECT_EQ(Keys(t, {"RESTORE", "k", "0", "payload", "REPLACE"}), Strings({"k"}));
  EXPECT_EQ(Keys(t, {"SET", "k"}),
            Strings({"INVALID_ARGUMENT: SET: wrong number of arguments (2, arity -3)"}));
  EXPECT_EQ(Keys(t, {"EVAL", "s", "-1"}),
            Strings({"INVALID_ARGUMENT: EVAL: argument 2 '-1' is not a key count"}));
  EXPECT_EQ(Keys(t, {"ZUNIONSTORE", "d", "3", "a", "b"}),
            Strings({"INVALID_ARGUMENT: ZUNIONSTORE: keys expected at arguments 3..5 of 5"}));
  EXPECT_EQ(Keys(t, {"ZUNIONSTORE", "d", "5", "a"}),
            Strings({"INVALID_ARGUMENT: ZUNIONSTORE: key count 5 exceeds the 4 arguments"}));
}

// A COMMAND entry as Redis 7 sends it over RESP2 (only the fields we read).
RespValue Str(std::string s) { return RespValue::BulkString(std::move(s)); }
RespValue Int(int64_t n) { return RespValue::Integer(n); }
RespValue Arr(std::vector<RespValue> v) { return RespValue::Array(std::move(v)); }

RespValue IndexRangeSpec(int index, int lastkey, int step, std::vector<RespValue> flags) {
  return Arr({Str("flags"), Arr(std::move(flags)), Str("begin_search"),
              Arr({Str("type"), Str("index"), Str("spec"), Arr({Str("index"), Int(index)})}),
              Str("find_keys"),
              Arr({Str("type"), Str("range"), Str("spec"),
                   Arr({Str("lastkey"), Int(lastkey), Str("keystep"), Int(step), Str("limit"),
                        Int(0)})})});
}

RespValue Entry(std::string name, int arity, std::vector<RespValue> flags, int first, int last,
                int step, std::vector<RespValue> specs, std::vector<RespValue> subs = {}) {
  return Arr({Str(std::move(name)), Int(arity), Arr(std::move(flags)), Int(first), Int(last),
              Int(step), Arr({}), Arr({}), Arr(std::move(specs)), Arr(std::move(subs))});
}

TEST(CommandTableTest, FromCommandReplyOverridesAndExtendsTheBase) {
  RespValue reply = Arr({
      // A module command the built-in table does not know.
      Entry("mymod.set", -3, {Str("write")}, 1, 1, 1, {IndexRangeSpec(1, 0, 1, {Str("RW")})}),
      // A read-only source key.
      Entry("mymod.store", -3, {Str("write")}, 1, 2, 1,
            {IndexRangeSpec(1, 0, 1, {Str("OW"), Str("UPDATE")}),
             IndexRangeSpec(2, 0, 1, {Str("RO"), Str("ACCESS")})}),
      // DEL keeps its split route.
      Entry("del", -2, {Str("write")}, 1, -1, 1, {IndexRangeSpec(1, -1, 1, {Str("RM")})}),
      // An incomplete spec: MIGRATE stays unknown.
      Entry("migrate", -6, {Str("write"), Str("movablekeys")}, 3, 3, 1,
            {IndexRangeSpec(3, 0, 1, {Str("RW"), Str("INCOMPLETE")})}),
      // No keys: PING keeps its built-in row.
      Entry("ping", -1, {Str("fast")}, 0, 0, 0, {}),
      // A container with a subcommand.
      Entry("mymod.group", -2, {}, 0, 0, 0, {},
            {Entry("mymod.group|create", -3, {Str("write")}, 2, 2, 1,
                   {IndexRangeSpec(2, 0, 1, {Str("RW")})})}),
  });
  absl::StatusOr<CommandTable> t = CommandTable::FromCommandReply(reply, CommandTable::Builtin());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), CommandTable::Builtin().size() + 4);
  EXPECT_EQ(ReadOnlyMask(*t, {"mymod.store", "d", "s"}), "wr");
  EXPECT_EQ(Keys(*t, {"MYMOD.SET", "k", "v"}), Strings({"k"}));
  EXPECT_TRUE(t->FindByName("mymod.set")->write);
  EXPECT_EQ(Keys(*t, {"mymod.group", "create", "k", "x"}), Strings({"k"}));
  EXPECT_EQ(t->FindByName("DEL")->route, RouteKind::kSplitKeys);
  EXPECT_EQ(t->FindByName("MIGRATE"), nullptr);
  EXPECT_EQ(*t->FindByName("PING"), *CommandTable::Builtin().FindByName("PING"));

  // Redis 6: no key specs, first/last/step.
  RespValue old =
      Arr({Arr({Str("mymod.mset"), Int(-3), Arr({Str("write")}), Int(1), Int(-1), Int(2), Arr({})}),
           Arr({Str("mymod.eval"), Int(-3), Arr({Str("write"), Str("movablekeys")}), Int(0), Int(0),
                Int(0), Arr({})})});
  absl::StatusOr<CommandTable> t6 = CommandTable::FromCommandReply(old, CommandTable::Builtin());
  ASSERT_TRUE(t6.ok()) << t6.status();
  EXPECT_EQ(Keys(*t6, {"mymod.mset", "a", "1", "b", "2"}), Strings({"a", "b"}));
  EXPECT_EQ(t6->FindByName("mymod.eval"), nullptr);

  EXPECT_EQ(CommandTable::FromCommandReply(Str("x"), CommandTable()).status().ToString(),
            "INVALID_ARGUMENT: COMMAND reply: expected an array, got \"x\"");
  EXPECT_EQ(CommandTable::FromCommandReply(Arr({Int(1)}), CommandTable()).status().ToString(),
            "INVALID_ARGUMENT: COMMAND reply: entry 0 is not a command: :1");
}

}  // namespace
}  // namespace reshard::engine
