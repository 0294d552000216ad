#include "engine/route/command_router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/resp/resp_writer.h"
#include "tests/support/test_filters.h"

namespace reshard::engine {
namespace {

using ::reshard::engine::testing::PrefixFilter;

// The RESP bytes of a command.
std::string W(std::initializer_list<std::string_view> args) {
  std::string out;
  AppendCommand(&out, args);
  return out;
}

const std::string kMulti = W({"MULTI"});
const std::string kExec = W({"EXEC"});
std::string Select(std::string_view db) { return W({"SELECT", db}); }

class CommandRouterTest : public ::testing::Test {
 protected:
  CommandRouterTest() : router_({&a_, &b_}, &CommandTable::Builtin()) {}

  // Routes the command whose wire bytes are `wire` (parsed by RespParser, as
  // the job does); the outputs accumulate in out_.
  absl::Status RouteWire(const std::string& wire) {
    RespParser parser;
    RespCommand cmd;
    size_t consumed = 0;
    EXPECT_EQ(parser.Parse(wire, &consumed, &cmd), ParseResult::kOk) << parser.error();
    EXPECT_EQ(consumed, wire.size());
    return router_.Route(cmd, &out_);
  }
  absl::Status Route(std::initializer_list<std::string_view> args) { return RouteWire(W(args)); }
  void Ok(std::initializer_list<std::string_view> args) {
    absl::Status s = Route(args);
    EXPECT_TRUE(s.ok()) << s;
  }
  // Returns what each target got since the last call.
  std::vector<std::string> Take() {
    std::vector<std::string> got = std::move(out_);
    out_.assign(2, "");
    return got;
  }
  std::vector<std::string> Got(std::string t0, std::string t1) { return {t0, t1}; }

  PrefixFilter a_{"a"};
  PrefixFilter b_{"b"};
  CommandRouter router_;
  std::vector<std::string> out_ = std::vector<std::string>(2);
};

TEST_F(CommandRouterTest, SingleKeyCommandsGoWholeToTheirTarget) {
  router_.SetSourceDb(0);
  // Lower-case name and a zero-padded length: the exact wire bytes are kept.
  std::string odd = "*3\r\n$3\r\nset\r\n$02\r\na1\r\n$1\r\nv\r\n";
  ASSERT_TRUE(RouteWire(odd).ok());
  EXPECT_EQ(Take(), Got(Select("0") + odd, ""));
  Ok({"INCR", "a2"});
  Ok({"HSET", "b1", "f", "v"});
  Ok({"PEXPIREAT", "c1", "1700000000000"});
  EXPECT_EQ(Take(), Got(W({"INCR", "a2"}), Select("0") + W({"HSET", "b1", "f", "v"})));
  EXPECT_EQ(router_.counters(0).commands_kept, 2u);
  EXPECT_EQ(router_.counters(0).commands_dropped, 2u);
  EXPECT_EQ(router_.counters(1).commands_kept, 1u);
  EXPECT_EQ(router_.counters(1).commands_dropped, 3u);
  EXPECT_EQ(router_.counters(0).commands_split, 0u);
}

TEST_F(CommandRouterTest, SelectIsTrackedPerTarget) {
  EXPECT_EQ(Route({"SET", "a1", "v"}).ToString(),
            "FAILED_PRECONDITION: SET before the source's db is known (no SELECT yet)");
  Ok({"SELECT", "3"});
  EXPECT_EQ(Take(), Got("", ""));  // SELECT itself is never forwarded
  EXPECT_EQ(router_.source_db(), 3);
  Ok({"SET", "a1", "v"});
  Ok({"SELECT", "3"});
  Ok({"SET", "a2", "v"});
  Ok({"SELECT", "5"});
  Ok({"SET", "b1", "v"});
  Ok({"SELECT", "3"});
  Ok({"SET", "a3", "v"});  // target 0 is still in db 3
  Ok({"SET", "b2", "v"});
  EXPECT_EQ(Take(),
            Got(Select("3") + W({"SET", "a1", "v"}) + W({"SET", "a2", "v"}) + W({"SET", "a3", "v"}),
                Select("5") + W({"SET", "b1", "v"}) + Select("3") + W({"SET", "b2", "v"})));
  EXPECT_EQ(router_.target_db(0), 3);
  EXPECT_EQ(router_.target_db(1), 3);
  router_.SetTargetDb(1, -1);  // e.g. target 1 resynced
  Ok({"SET", "b3", "v"});
  EXPECT_EQ(Take(), Got("", Select("3") + W({"SET", "b3", "v"})));
  EXPECT_EQ(Route({"SELECT", "x"}).ToString(), "INVALID_ARGUMENT: SELECT 'x': not a db index");
  EXPECT_EQ(Route({"SELECT", "-1"}).ToString(), "INVALID_ARGUMENT: SELECT '-1': not a db index");
}

TEST_F(CommandRouterTest, DelUnlinkTouchExistsAreSplitPerTarget) {
  router_.SetSourceDb(0);
  Ok({"DEL", "a1", "b1", "a2", "c1"});
  EXPECT_EQ(Take(), Got(Select("0") + W({"DEL", "a1", "a2"}), Select("0") + W({"DEL", "b1"})));
  EXPECT_EQ(router_.counters(0).commands_split, 1u);
  EXPECT_EQ(router_.counters(1).commands_split, 1u);
  Ok({"UNLINK", "b1", "a1"});
  Ok({"TOUCH", "a1", "a2"});  // all on one target: the original bytes
  Ok({"EXISTS", "c1", "b7"});
  Ok({"DEL", "c1", "c2"});  // nobody's
  EXPECT_EQ(Take(), Got(W({"UNLINK", "a1"}) + W({"TOUCH", "a1", "a2"}),
                        W({"UNLINK", "b1"}) + W({"EXISTS", "b7"})));
  const RouteCounters& c0 = router_.counters(0);
  const RouteCounters& c1 = router_.counters(1);
  EXPECT_EQ(c0.commands_kept, 3u);     // DEL, UNLINK, TOUCH
  EXPECT_EQ(c0.commands_split, 2u);    // DEL, UNLINK
  EXPECT_EQ(c0.commands_dropped, 2u);  // EXISTS, DEL c1 c2
  EXPECT_EQ(c1.commands_kept, 3u);     // DEL, UNLINK, EXISTS
  EXPECT_EQ(c1.commands_split, 3u);
  EXPECT_EQ(c1.commands_dropped, 2u);  // TOUCH, DEL c1 c2
}

TEST_F(CommandRouterTest, MsetIsSplitByPairs) {
  router_.SetSourceDb(2);
  Ok({"MSET", "a1", "1", "b1", "2", "a2", "3", "c", "4"});
  Ok({"MSET", "b1", "x", "b2", "y"});
  EXPECT_EQ(Take(), Got(Select("2") + W({"MSET", "a1", "1", "a2", "3"}),
                        Select("2") + W({"MSET", "b1", "2"}) + W({"MSET", "b1", "x", "b2", "y"})));
  EXPECT_EQ(Route({"MSET", "a1", "1", "b1"}).ToString(),
            "INVALID_ARGUMENT: MSET: 4 arguments do not split into keys");
}

TEST_F(CommandRouterTest, MsetexIsSplitByPairsWithItsOwnCountAndTheSameConditions) {
  router_.SetSourceDb(0);
  Ok({"MSETEX", "3", "a1", "1", "b1", "2", "a2", "3", "NX", "PXAT", "4102444800000"});
  Ok({"MSETEX", "2", "b1", "x", "b2", "y", "KEEPTTL"});
  Ok({"MSETEX", "1", "a1", "z"});
  EXPECT_EQ(
      Take(),
      Got(Select("0") + W({"MSETEX", "2", "a1", "1", "a2", "3", "NX", "PXAT", "4102444800000"}) +
              W({"MSETEX", "1", "a1", "z"}),
          Select("0") + W({"MSETEX", "1", "b1", "2", "NX", "PXAT", "4102444800000"}) +
              W({"MSETEX", "2", "b1", "x", "b2", "y", "KEEPTTL"})));
  EXPECT_EQ(router_.counters(0).commands_split, 1u);
  EXPECT_EQ(router_.counters(1).commands_split, 1u);
  EXPECT_EQ(Route({"MSETEX", "3", "a1", "1", "b1", "2"}).ToString(),
            "INVALID_ARGUMENT: MSETEX: keys expected at arguments 2..6 of 6");
}

TEST_F(CommandRouterTest, HashFieldExpiryAndConditionalDeletesGoByTheirKey) {
  router_.SetSourceDb(0);
  Ok({"HSETEX", "a1", "FNX", "PXAT", "4102444800000", "FIELDS", "1", "f", "v"});
  Ok({"HGETDEL", "b1", "FIELDS", "1", "f"});
  Ok({"HGETEX", "a2", "PERSIST", "FIELDS", "1", "f"});
  Ok({"HPEXPIREAT", "b2", "4102444800000", "FIELDS", "1", "f"});
  Ok({"HPERSIST", "a1", "FIELDS", "1", "f"});
  Ok({"DELIFEQ", "b1", "v"});
  Ok({"DELEX", "a1", "IFEQ", "v"});
  Ok({"XDELEX", "b1", "IDS", "1", "1-1"});
  Ok({"XACKDEL", "a1", "g", "IDS", "1", "1-1"});
  EXPECT_EQ(Take(),
            Got(Select("0") +
                    W({"HSETEX", "a1", "FNX", "PXAT", "4102444800000", "FIELDS", "1", "f", "v"}) +
                    W({"HGETEX", "a2", "PERSIST", "FIELDS", "1", "f"}) +
                    W({"HPERSIST", "a1", "FIELDS", "1", "f"}) + W({"DELEX", "a1", "IFEQ", "v"}) +
                    W({"XACKDEL", "a1", "g", "IDS", "1", "1-1"}),
                Select("0") + W({"HGETDEL", "b1", "FIELDS", "1", "f"}) +
                    W({"HPEXPIREAT", "b2", "4102444800000", "FIELDS", "1", "f"}) +
                    W({"DELIFEQ", "b1", "v"}) + W({"XDELEX", "b1", "IDS", "1", "1-1"})));
}

TEST_F(CommandRouterTest, MultiKeyCommandsOnOneTargetGoWhole) {
  router_.SetSourceDb(0);
  Ok({"RENAME", "a1", "a2"});
  Ok({"SMOVE", "b1", "b2", "m"});
  Ok({"LMOVE", "a1", "a2", "LEFT", "RIGHT"});
  Ok({"ZUNIONSTORE", "a9", "2", "a1", "a2", "WEIGHTS", "1", "2"});
  Ok({"EVALSHA", "abc", "2", "b1", "b2", "arg"});
  Ok({"BITOP", "AND", "a3", "a1", "a2"});
  Ok({"SORT", "a1", "LIMIT", "0", "10", "STORE", "a2"});
  Ok({"GEORADIUS", "b1", "0", "0", "10", "km", "STORE", "b2"});
  Ok({"COPY", "c1", "c2"});  // nobody's
  EXPECT_EQ(Take(), Got(Select("0") + W({"RENAME", "a1", "a2"}) +
                            W({"LMOVE", "a1", "a2", "LEFT", "RIGHT"}) +
                            W({"ZUNIONSTORE", "a9", "2", "a1", "a2", "WEIGHTS", "1", "2"}) +
                            W({"BITOP", "AND", "a3", "a1", "a2"}) +
                            W({"SORT", "a1", "LIMIT", "0", "10", "STORE", "a2"}),
                        Select("0") + W({"SMOVE", "b1", "b2", "m"}) +
                            W({"EVALSHA", "abc", "2", "b1", "b2", "arg"}) +
                            W({"GEORADIUS", "b1", "0", "0", "10", "km", "STORE", "b2"})));
}

TEST_F(CommandRouterTest, CrossTargetWritesAreRefusedWithNothingSent) {
  router_.SetSourceDb(0);
  auto refused = [&](std::initializer_list<std::string_view> args) {
    absl::Status s = Route(args);
    EXPECT_EQ(Take(), Got("", ""));
    return s.ToString();
  };
  EXPECT_EQ(refused({"RENAME", "a1", "b1"}),
            "FAILED_PRECONDITION: RENAME keys 'a1' (target 0), 'b1' (target 1) span targets 0, 1: "
            "cross-target writes are not supported yet");
  EXPECT_EQ(refused({"RENAMENX", "a1", "c1"}),
            "FAILED_PRECONDITION: RENAMENX keys 'a1' (target 0), 'c1' (no target) span targets 0: "
            "cross-target writes are not supported yet");
  EXPECT_EQ(refused({"bitop", "OR", "a1", "a2", "b1"}),
            "FAILED_PRECONDITION: bitop keys 'a1' (target 0), 'a2' (target 0), 'b1' (target 1) "
            "span targets 0, 1: cross-target writes are not supported yet");
  EXPECT_EQ(refused({"EVAL", "return 1", "2", "a1", "b1"}),
            "FAILED_PRECONDITION: EVAL keys 'a1' (target 0), 'b1' (target 1) span targets 0, 1: "
            "cross-target writes are not supported yet");
  EXPECT_EQ(refused({"EVAL", "return 1", "0"}),
            "FAILED_PRECONDITION: EVAL names no keys: cannot choose its targets");
  EXPECT_EQ(refused({"SORT", "a1", "STORE", "b1"}),
            "FAILED_PRECONDITION: SORT keys 'a1' (target 0), 'b1' (target 1) span targets 0, 1: "
            "cross-target writes are not supported yet");
  EXPECT_EQ(refused({"SORT", "a1", "BY", "w_*", "STORE", "a2"}),
            "FAILED_PRECONDITION: SORT 'a1' ... STORE with a BY/GET pattern reads keys that may "
            "live on other targets: not supported yet");
  EXPECT_EQ(refused({"GEOSEARCHSTORE", "b1", "a1", "FROMMEMBER", "m", "BYRADIUS", "1", "km"}),
            "FAILED_PRECONDITION: GEOSEARCHSTORE keys 'b1' (target 1), 'a1' (target 0) span "
            "targets 0, 1: cross-target writes are not supported yet");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(router_.counters(i).commands_kept, 0u);
    EXPECT_EQ(router_.counters(i).commands_dropped, 0u);
  }
}

TEST_F(CommandRouterTest, MsetnxAndSmoveAcrossTargetsAreSplitExactly) {
  router_.SetSourceDb(0);
  // The source replicates MSETNX only when it set every key: MSET parts.
  Ok({"MSETNX", "a1", "1", "b1", "2", "a2", "3"});
  // SMOVE only when the member moved: it left src and is in dst.
  Ok({"SMOVE", "b1", "a1", "m"});
  Ok({"SMOVE", "a1", "c1", "m"});  // dst on no target
  EXPECT_EQ(Take(), Got(Select("0") + W({"MSET", "a1", "1", "a2", "3"}) + W({"SADD", "a1", "m"}) +
                            W({"SREM", "a1", "m"}),
                        Select("0") + W({"MSET", "b1", "2"}) + W({"SREM", "b1", "m"})));
  EXPECT_EQ(router_.counters(0).commands_split, 3u);
  EXPECT_EQ(router_.counters(1).commands_split, 2u);
  EXPECT_EQ(router_.counters(1).commands_dropped, 1u);
}

TEST(CommandRouterOverlapTest, SmoveGoesWholeToATargetHoldingBothKeys) {
  PrefixFilter a("a"), b("b"), all("");
  CommandRouter router({&a, &b, &all}, &CommandTable::Builtin());
  router.SetSourceDb(0);
  std::vector<std::string> out(3);
  std::string wire = W({"SMOVE", "a1", "b1", "m"});
  RespParser parser;
  RespCommand cmd;
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse(wire, &consumed, &cmd), ParseResult::kOk);
  ASSERT_TRUE(router.Route(cmd, &out).ok());
  EXPECT_EQ(out,
            (std::vector<std::string>{Select("0") + W({"SREM", "a1", "m"}),
                                      Select("0") + W({"SADD", "b1", "m"}), Select("0") + wire}));
}

TEST(CommandRouterNamesTest, ErrorsUseTargetNamesAndCutLongKeyLists) {
  PrefixFilter a("a"), b("b"), ab("ab");
  CommandRouter router({&a, &b, &ab}, &CommandTable::Builtin(), {"east", "west", "north"});
  router.SetSourceDb(0);
  std::vector<std::string> out(3);
  std::string wire = W({"PFMERGE", "ab", "b1", "a1", "c1", "k5", "k6", "k7", "k8", "k9", "k10"});
  RespParser parser;
  RespCommand cmd;
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse(wire, &consumed, &cmd), ParseResult::kOk);
  EXPECT_EQ(router.Route(cmd, &out).ToString(),
            "FAILED_PRECONDITION: PFMERGE keys 'ab' (targets east, north), 'b1' (target west), "
            "'a1' (target east), 'c1' (no target), 'k5' (no target), 'k6' (no target), 'k7' (no "
            "target), 'k8' (no target), ... (10 keys) span targets east, west, north: "
            "cross-target writes are not supported yet");
  EXPECT_EQ(out, std::vector<std::string>(3));
}

TEST(CommandRouterOverlapTest, AKeyMaySelectSeveralTargets) {
  PrefixFilter a("a"), ab("ab");
  CommandRouter router({&a, &ab}, &CommandTable::Builtin());
  router.SetSourceDb(0);
  std::vector<std::string> out(2);
  RespParser parser;
  RespCommand cmd;
  size_t consumed = 0;
  std::string wire = W({"SET", "ab1", "v"}) + W({"DEL", "a1", "ab1"}) + W({"RENAME", "ab1", "ab2"});
  std::string_view rest = wire;
  while (!rest.empty()) {
    ASSERT_EQ(parser.Parse(rest, &consumed, &cmd), ParseResult::kOk);
    ASSERT_TRUE(router.Route(cmd, &out).ok());
    rest.remove_prefix(consumed);
  }
  EXPECT_EQ(out[0], Select("0") + W({"SET", "ab1", "v"}) + W({"DEL", "a1", "ab1"}) +
                        W({"RENAME", "ab1", "ab2"}));
  EXPECT_EQ(out[1],
            Select("0") + W({"SET", "ab1", "v"}) + W({"DEL", "ab1"}) + W({"RENAME", "ab1", "ab2"}));
  EXPECT_EQ(router.counters(1).commands_split, 1u);
  EXPECT_EQ(router.counters(0).commands_split, 0u);
}

TEST_F(CommandRouterTest, BroadcastCommandsGoToEveryTarget) {
  Ok({"PING"});  // needs no db
  Ok({"FLUSHALL", "ASYNC"});
  Ok({"PUBLISH", "chan", "msg"});
  Ok({"SWAPDB", "0", "1"});
  Ok({"SCRIPT", "LOAD", "return 1"});
  Ok({"script", "flush"});
  Ok({"FUNCTION", "LOAD", "#!lua name=lib\n..."});
  Ok({"FUNCTION", "DELETE", "lib"});
  Ok({"FUNCTION", "FLUSH", "SYNC"});
  Ok({"FUNCTION", "RESTORE", "payload", "REPLACE"});
  std::string all = W({"PING"}) + W({"FLUSHALL", "ASYNC"}) + W({"PUBLISH", "chan", "msg"}) +
                    W({"SWAPDB", "0", "1"}) + W({"SCRIPT", "LOAD", "return 1"}) +
                    W({"script", "flush"}) + W({"FUNCTION", "LOAD", "#!lua name=lib\n..."}) +
                    W({"FUNCTION", "DELETE", "lib"}) + W({"FUNCTION", "FLUSH", "SYNC"}) +
                    W({"FUNCTION", "RESTORE", "payload", "REPLACE"});
  EXPECT_EQ(Take(), Got(all, all));
  EXPECT_EQ(Route({"FLUSHDB"}).ToString(),
            "FAILED_PRECONDITION: FLUSHDB before the source's db is known (no SELECT yet)");
  Ok({"SELECT", "7"});
  Ok({"FLUSHDB"});
  Ok({"FLUSHDB", "ASYNC"});
  std::string flush = Select("7") + W({"FLUSHDB"}) + W({"FLUSHDB", "ASYNC"});
  EXPECT_EQ(Take(), Got(flush, flush));
  EXPECT_EQ(router_.counters(0).commands_kept, 12u);
  EXPECT_EQ(router_.counters(1).commands_kept, 12u);
}

TEST_F(CommandRouterTest, MultiExecIsRegroupedPerTarget) {
  router_.SetSourceDb(0);
  Ok({"MULTI"});
  EXPECT_TRUE(router_.in_transaction());
  Ok({"SELECT", "1"});
  Ok({"SET", "a1", "1"});
  Ok({"DEL", "a2", "b2"});
  Ok({"INCR", "b1"});
  Ok({"SELECT", "2"});
  Ok({"SET", "b2", "v"});
  Ok({"SET", "c1", "v"});
  EXPECT_EQ(Take(), Got("", ""));  // nothing before EXEC
  Ok({"EXEC"});
  EXPECT_FALSE(router_.in_transaction());
  EXPECT_EQ(Take(), Got(kMulti + Select("1") + W({"SET", "a1", "1"}) + W({"DEL", "a2"}) + kExec,
                        kMulti + Select("1") + W({"DEL", "b2"}) + W({"INCR", "b1"}) + Select("2") +
                            W({"SET", "b2", "v"}) + kExec));
  EXPECT_EQ(router_.target_db(0), 1);
  EXPECT_EQ(router_.target_db(1), 2);
  // After EXEC, each target continues from the db its part left selected.
  Ok({"SET", "a3", "v"});
  Ok({"SET", "b3", "v"});
  EXPECT_EQ(Take(), Got(Select("2") + W({"SET", "a3", "v"}), W({"SET", "b3", "v"})));
}

TEST_F(CommandRouterTest, ATargetWithAnEmptyPartGetsNothingAndKeepsItsDb) {
  router_.SetSourceDb(0);
  Ok({"SET", "b0", "v"});
  Take();
  Ok({"MULTI"});
  Ok({"SELECT", "4"});
  Ok({"SET", "a1", "v"});
  Ok({"LPUSH", "a2", "x"});
  Ok({"EXEC"});
  EXPECT_EQ(
      Take(),
      Got(kMulti + Select("4") + W({"SET", "a1", "v"}) + W({"LPUSH", "a2", "x"}) + kExec, ""));
  EXPECT_EQ(router_.target_db(0), 4);
  EXPECT_EQ(router_.target_db(1), 0);
  // The source stays in db 4; target 1 learns it with its next command.
  Ok({"SET", "b1", "v"});
  EXPECT_EQ(Take(), Got("", Select("4") + W({"SET", "b1", "v"})));
  // A transaction of SELECTs only, or of nobody's keys: nothing at all.
  Ok({"MULTI"});
  Ok({"SELECT", "9"});
  Ok({"DEL", "c1", "c2"});
  Ok({"EXEC"});
  EXPECT_EQ(Take(), Got("", ""));
  EXPECT_EQ(router_.target_db(0), 4);
  EXPECT_EQ(router_.source_db(), 9);
}

TEST_F(CommandRouterTest, DiscardDropsTheTransaction) {
  router_.SetSourceDb(0);
  Ok({"MULTI"});
  Ok({"SELECT", "5"});
  Ok({"SET", "a1", "v"});
  Ok({"DISCARD"});
  EXPECT_EQ(Take(), Got("", ""));
  EXPECT_EQ(router_.source_db(), 0);  // the queued SELECT never ran
  EXPECT_EQ(router_.target_db(0), -1);
  Ok({"SET", "a1", "w"});
  EXPECT_EQ(Take(), Got(Select("0") + W({"SET", "a1", "w"}), ""));
}

TEST_F(CommandRouterTest, TransactionErrors) {
  router_.SetSourceDb(0);
  EXPECT_EQ(Route({"EXEC"}).ToString(), "FAILED_PRECONDITION: EXEC without MULTI");
  EXPECT_EQ(Route({"DISCARD"}).ToString(), "FAILED_PRECONDITION: DISCARD without MULTI");
  Ok({"MULTI"});
  EXPECT_EQ(Route({"MULTI"}).ToString(), "FAILED_PRECONDITION: MULTI inside MULTI");
}

TEST_F(CommandRouterTest, UnknownAndInterceptedCommandsAreErrors) {
  router_.SetSourceDb(0);
  EXPECT_EQ(Route({"FOO", "a1"}).ToString(),
            "FAILED_PRECONDITION: unknown command 'FOO': cannot route it");
  EXPECT_EQ(Route({"SCRIPT", "KILL"}).ToString(),
            "FAILED_PRECONDITION: unknown command 'SCRIPT KILL': cannot route it");
  EXPECT_EQ(Route({"MIGRATE", "h", "1", "a1", "0", "10"}).ToString(),
            "FAILED_PRECONDITION: unknown command 'MIGRATE': cannot route it");
  EXPECT_EQ(Route({"REPLCONF", "GETACK", "*"}).ToString(),
            "FAILED_PRECONDITION: REPLCONF reached the router: the job must handle it before "
            "routing");
  EXPECT_EQ(Route({"SET", "a1"}).ToString(),
            "INVALID_ARGUMENT: SET: wrong number of arguments (2, arity -3)");
  EXPECT_EQ(Route({"EVAL", "s", "x", "a1"}).ToString(),
            "INVALID_ARGUMENT: EVAL: argument 2 'x' is not a key count");
  EXPECT_EQ(Route({"EVAL", "s", "3", "a1"}).ToString(),
            "INVALID_ARGUMENT: EVAL: keys expected at arguments 3..5 of 4");
  EXPECT_EQ(Take(), Got("", ""));
  std::vector<std::string> one(1);
  RespCommand ping{{"PING"}, "*1\r\n$4\r\nPING\r\n"};
  EXPECT_EQ(router_.Route(ping, &one).ToString(),
            "INVALID_ARGUMENT: Route: 1 outputs for 2 targets");
}

TEST_F(CommandRouterTest, KeepalivesAreNotForwarded) {
  RespCommand keepalive{{}, "\n"};
  ASSERT_TRUE(router_.Route(keepalive, &out_).ok());
  EXPECT_EQ(Take(), Got("", ""));
  EXPECT_EQ(router_.counters(0).commands_dropped, 0u);
}

TEST_F(CommandRouterTest, StreamCommands) {
  router_.SetSourceDb(0);
  Ok({"XADD", "a1", "1700000000000-0", "f", "v"});
  Ok({"XGROUP", "CREATE", "b1", "g", "$", "MKSTREAM"});
  Ok({"xgroup", "setid", "a1", "g", "0-0", "ENTRIESREAD", "3"});
  Ok({"XGROUP", "CREATECONSUMER", "b1", "g", "c"});
  Ok({"XGROUP", "DELCONSUMER", "a1", "g", "c"});
  Ok({"XGROUP", "DESTROY", "b1", "g"});
  Ok({"XCLAIM", "a1", "g", "c", "0", "1-0", "TIME", "1", "RETRYCOUNT", "1", "FORCE", "JUSTID",
      "LASTID", "1-0"});
  Ok({"XAUTOCLAIM", "b1", "g", "c", "0", "0-0"});
  Ok({"XACK", "a1", "g", "1-0"});
  Ok({"XSETID", "b1", "5-0", "ENTRIESADDED", "5", "MAXDELETEDID", "1-0"});
  Ok({"XTRIM", "a1", "MAXLEN", "=", "10"});
  Ok({"XDEL", "b1", "1-0"});
  EXPECT_EQ(Take(), Got(Select("0") + W({"XADD", "a1", "1700000000000-0", "f", "v"}) +
                            W({"xgroup", "setid", "a1", "g", "0-0", "ENTRIESREAD", "3"}) +
                            W({"XGROUP", "DELCONSUMER", "a1", "g", "c"}) +
                            W({"XCLAIM", "a1", "g", "c", "0", "1-0", "TIME", "1", "RETRYCOUNT", "1",
                               "FORCE", "JUSTID", "LASTID", "1-0"}) +
                            W({"XACK", "a1", "g", "1-0"}) + W({"XTRIM", "a1", "MAXLEN", "=", "10"}),
                        Select("0") + W({"XGROUP", "CREATE", "b1", "g", "$", "MKSTREAM"}) +
                            W({"XGROUP", "CREATECONSUMER", "b1", "g", "c"}) +
                            W({"XGROUP", "DESTROY", "b1", "g"}) +
                            W({"XAUTOCLAIM", "b1", "g", "c", "0", "0-0"}) +
                            W({"XSETID", "b1", "5-0", "ENTRIESADDED", "5", "MAXDELETEDID", "1-0"}) +
                            W({"XDEL", "b1", "1-0"})));
}

// ---------------------------------------------------------------------------
// Relative expiries made absolute with the clock.

class ExpiryRewriteTest : public CommandRouterTest {
 protected:
  static constexpr int64_t kNow = 1700000000000;
  ExpiryRewriteTest() {
    router_.SetSourceDb(0);
    router_.SetNowMs(kNow);
    router_.SetTargetSupportsPxat(1, true);  // b (Redis >= 6.2); a has no PXAT
    router_.SetTargetDb(0, 0);               // no SELECT in what the tests compare
    router_.SetTargetDb(1, 0);
  }
};

TEST_F(ExpiryRewriteTest, ExpireAndPexpireBecomePexpireatKeepingTheirFlags) {
  Ok({"EXPIRE", "a1", "100"});
  Ok({"expire", "b1", "100", "NX"});
  Ok({"PEXPIRE", "a1", "1500", "GT"});
  Ok({"pexpire", "b1", "-20"});  // in the past: the target keeps it until the source's DEL
  EXPECT_EQ(
      Take(),
      Got(W({"PEXPIREAT", "a1", "1700000100000"}) + W({"PEXPIREAT", "a1", "1700000001500", "GT"}),
          W({"PEXPIREAT", "b1", "1700000100000", "NX"}) + W({"PEXPIREAT", "b1", "1699999999980"})));
  EXPECT_EQ(router_.counters(0).commands_kept, 2u);
  EXPECT_EQ(router_.counters(0).commands_dropped, 2u);
}

TEST_F(ExpiryRewriteTest, SetexPsetexAndSetExPxUsePxatOnlyWhereTheTargetHasIt) {
  Ok({"SETEX", "a1", "10", "v1"});
  Ok({"SETEX", "b1", "10", "v1"});
  EXPECT_EQ(Take(),
            Got(kMulti + W({"SET", "a1", "v1"}) + W({"PEXPIREAT", "a1", "1700000010000"}) + kExec,
                W({"SET", "b1", "v1", "PXAT", "1700000010000"})));
  Ok({"PSETEX", "a2", "250", "v2"});
  Ok({"psetex", "b2", "250", "v2"});
  EXPECT_EQ(Take(),
            Got(kMulti + W({"SET", "a2", "v2"}) + W({"PEXPIREAT", "a2", "1700000000250"}) + kExec,
                W({"SET", "b2", "v2", "PXAT", "1700000000250"})));
  // NX, XX and GET go, as Redis 7 does: the source ran the command.
  Ok({"SET", "a3", "v3", "EX", "3600", "NX"});
  Ok({"set", "b3", "v3", "xx", "px", "42", "get"});
  EXPECT_EQ(Take(),
            Got(kMulti + W({"SET", "a3", "v3"}) + W({"PEXPIREAT", "a3", "1700003600000"}) + kExec,
                W({"SET", "b3", "v3", "PXAT", "1700000000042"})));
  EXPECT_EQ(router_.counters(0).commands_kept, 3u);
  EXPECT_EQ(router_.counters(1).commands_kept, 3u);
}

TEST_F(ExpiryRewriteTest, InsideMultiTheSetAndPexpireatJoinTheTransactionPart) {
  Ok({"MULTI"});
  Ok({"INCR", "a0"});
  Ok({"SETEX", "a1", "5", "v"});
  Ok({"SET", "b1", "v", "EX", "5"});
  Ok({"EXPIRE", "b2", "7"});
  Ok({"EXEC"});
  EXPECT_EQ(Take(), Got(kMulti + W({"INCR", "a0"}) + W({"SET", "a1", "v"}) +
                            W({"PEXPIREAT", "a1", "1700000005000"}) + kExec,
                        kMulti + W({"SET", "b1", "v", "PXAT", "1700000005000"}) +
                            W({"PEXPIREAT", "b2", "1700000007000"}) + kExec));
}

TEST_F(ExpiryRewriteTest, GetexAndRestoreBecomeAbsolute) {
  Ok({"GETEX", "a1", "EX", "5"});
  Ok({"getex", "b1", "px", "5"});
  Ok({"RESTORE", "a2", "5000", "payload", "REPLACE"});
  Ok({"RESTORE", "b2", "1", "payload", "IDLETIME", "3"});
  Ok({"RESTORE-ASKING", "a3", "10", "payload"});
  EXPECT_EQ(Take(),
            Got(W({"PEXPIREAT", "a1", "1700000005000"}) +
                    W({"RESTORE", "a2", "1700000005000", "payload", "REPLACE", "ABSTTL"}) +
                    W({"RESTORE-ASKING", "a3", "1700000000010", "payload", "ABSTTL"}),
                W({"PEXPIREAT", "b1", "1700000000005"}) +
                    W({"RESTORE", "b2", "1700000000001", "payload", "IDLETIME", "3", "ABSTTL"})));
}

TEST_F(ExpiryRewriteTest, AbsoluteMalformedAndOverflowingExpiriesPassUnchanged) {
  const std::vector<std::vector<std::string_view>> unchanged = {
      {"PEXPIREAT", "a1", "1700000000000"},
      {"EXPIREAT", "a1", "1700000000"},
      {"SET", "a1", "v"},
      {"SET", "a1", "v", "NX"},
      {"SET", "a1", "v", "EXAT", "1700000000"},
      {"SET", "a1", "v", "PXAT", "1700000000000"},
      {"SET", "a1", "v", "KEEPTTL"},
      {"SET", "a1", "v", "EX", "10", "KEEPTTL"},  // a syntax error: the target says so
      {"SET", "a1", "v", "EX", "10", "PX", "10"},
      {"SET", "a1", "v", "EX"},
      {"SET", "a1", "v", "EX", "ten"},
      {"SETEX", "a1", "1e3", "v"},
      {"EXPIRE", "a1", "9223372036854775807"},  // overflows in ms
      {"PEXPIRE", "a1", "9223372036854775807"},
      {"EXPIRE", "a1", ""},
      {"GETEX", "a1"},
      {"GETEX", "a1", "PERSIST"},
      {"GETEX", "a1", "EXAT", "1700000000"},
      {"RESTORE", "a1", "0", "payload"},
      {"RESTORE", "a1", "1700000000000", "payload", "ABSTTL"},
      {"RESTORE", "a1", "10", "payload", "absttl", "REPLACE"},
      {"PERSIST", "a1"},
  };
  std::string expected;
  for (const auto& args : unchanged) {
    std::string wire;
    AppendCommand(&wire, args);
    EXPECT_TRUE(RouteWire(wire).ok()) << wire;
    expected += wire;
  }
  EXPECT_EQ(Take(), Got(expected, ""));
}

TEST_F(ExpiryRewriteTest, NoClockOrDisabledLeavesRelativeExpiriesAlone) {
  router_.SetNowMs(0);
  Ok({"EXPIRE", "a1", "10"});
  Ok({"SETEX", "b1", "10", "v"});
  EXPECT_EQ(Take(), Got(W({"EXPIRE", "a1", "10"}), W({"SETEX", "b1", "10", "v"})));
  router_.SetNowMs(kNow);
  router_.set_rewrite_relative_expiries(false);
  Ok({"PEXPIRE", "a1", "10"});
  Ok({"SET", "b1", "v", "EX", "10"});
  EXPECT_EQ(Take(), Got(W({"PEXPIRE", "a1", "10"}), W({"SET", "b1", "v", "EX", "10"})));
  // The clock is per batch: a later batch counts from its own time.
  router_.set_rewrite_relative_expiries(true);
  router_.SetNowMs(kNow + 2500);
  Ok({"EXPIRE", "a1", "1"});
  EXPECT_EQ(Take(), Got(W({"PEXPIREAT", "a1", "1700000003500"}), ""));
}

// ---------------------------------------------------------------------------
// Materialisation of cross-target writes.

class MaterializeTest : public CommandRouterTest {
 protected:
  MaterializeTest() {
    router_.SetSourceDb(0);
    router_.SetAppliedOffset(100);
  }
  // Routes with materialisation; returns the requests.
  std::vector<Materialization> M(std::initializer_list<std::string_view> args) {
    RespParser parser;
    RespCommand cmd;
    size_t consumed = 0;
    std::string wire = W(args);
    EXPECT_EQ(parser.Parse(wire, &consumed, &cmd), ParseResult::kOk);
    std::vector<Materialization> requests;
    absl::Status s = router_.Route(cmd, &out_, &requests);
    EXPECT_TRUE(s.ok()) << s;
    return requests;
  }
  static MaterializedKey Present(std::string key, std::string payload, int64_t ttl = 0) {
    return MaterializedKey{std::move(key), true, std::move(payload), ttl};
  }
  static MaterializedKey Absent(std::string key) { return MaterializedKey{std::move(key)}; }
  void Emit(int db, const MaterializedKey& key, uint64_t offset, bool absolute_ttl = true) {
    router_.EmitMaterialized(db, key, absolute_ttl, offset, &out_);
  }
};

using Requests = std::vector<Materialization>;

TEST_F(MaterializeTest, RenameBecomesADelAndARestore) {
  EXPECT_EQ(M({"RENAME", "a1", "b1"}), (Requests{{0, {"a1", "b1"}}}));
  EXPECT_EQ(Take(), Got("", ""));
  Emit(0, Absent("a1"), 1000);
  Emit(0, Present("b1", std::string("\x00\x01v\r\n", 5), 1700000000123), 1000);
  EXPECT_EQ(Take(),
            Got(Select("0") + W({"DEL", "a1"}),
                Select("0") + W({"RESTORE", "b1", "1700000000123",
                                 std::string_view("\x00\x01v\r\n", 5), "REPLACE", "ABSTTL"})));
  EXPECT_EQ(router_.counters(0).keys_materialized, 1u);
  EXPECT_EQ(router_.counters(1).keys_materialized, 1u);
  EXPECT_EQ(router_.counters(0).commands_kept, 0u);
  EXPECT_EQ(router_.skipped_keys(), 2u);
}

TEST_F(MaterializeTest, EveryKeyAWriteChangesIsRequestedOnceAndNoKeyItOnlyReads) {
  EXPECT_EQ(M({"RENAMENX", "b1", "a1"}), (Requests{{0, {"b1", "a1"}}}));
  EXPECT_EQ(M({"LMOVE", "b9", "a1", "LEFT", "RIGHT"}), (Requests{{0, {"b9", "a1"}}}));
  // The *STORE family, BITOP, SORT ... STORE, COPY: only the destination.
  EXPECT_EQ(M({"SUNIONSTORE", "b9", "a1", "a2", "b9", "c1"}), (Requests{{0, {"b9"}}}));
  EXPECT_EQ(M({"BITOP", "AND", "a5", "b1", "b2"}), (Requests{{0, {"a5"}}}));
  EXPECT_EQ(M({"ZUNIONSTORE", "b5", "2", "a1", "a2"}), (Requests{{0, {"b5"}}}));
  EXPECT_EQ(M({"PFMERGE", "a5", "b1"}), (Requests{{0, {"a5"}}}));
  EXPECT_EQ(M({"SORT", "a1", "STORE", "b1"}), (Requests{{0, {"b1"}}}));
  EXPECT_EQ(M({"COPY", "a1", "b1", "REPLACE"}), (Requests{{0, {"b1"}}}));
  EXPECT_EQ(M({"GEORADIUS", "a1", "0", "0", "1", "km", "STORE", "b1"}), (Requests{{0, {"b1"}}}));
  // A script may change any key it declares.
  EXPECT_EQ(M({"EVAL", "return 1", "2", "a1", "b1"}), (Requests{{0, {"a1", "b1"}}}));
  EXPECT_EQ(Take(), Got("", ""));
  Emit(0, Present("b9", "P9"), 2000);
  Emit(0, Present("a1", "P1"), 2000);
  Emit(0, Present("a2", "P2", 5), 2000);
  Emit(0, Present("c1", "PC"), 2000);  // no target selects it: only skipped
  EXPECT_EQ(Take(), Got(Select("0") + W({"RESTORE", "a1", "0", "P1", "REPLACE", "ABSTTL"}) +
                            W({"RESTORE", "a2", "5", "P2", "REPLACE", "ABSTTL"}),
                        Select("0") + W({"RESTORE", "b9", "0", "P9", "REPLACE", "ABSTTL"})));
  EXPECT_EQ(router_.counters(0).keys_materialized, 2u);
  EXPECT_EQ(router_.counters(1).keys_materialized, 1u);
}

TEST_F(MaterializeTest, RelativeTtlWithoutAbsttl) {
  EXPECT_EQ(M({"LMOVE", "a1", "b1", "LEFT", "RIGHT"}), (Requests{{0, {"a1", "b1"}}}));
  Emit(0, Present("a1", "P", 1500), 300, /*absolute_ttl=*/false);
  EXPECT_EQ(Take(), Got(Select("0") + W({"RESTORE", "a1", "1500", "P", "REPLACE"}), ""));
}

TEST_F(MaterializeTest, SkippedKeysAreMaterialisedAgainUntilTheOffsetPasses) {
  ASSERT_EQ(M({"LMOVE", "a1", "b1", "LEFT", "LEFT"}), (Requests{{0, {"a1", "b1"}}}));
  Emit(0, Present("a1", "PA"), 1000);
  Emit(0, Present("b1", "PB"), 1000);
  Take();
  router_.SetAppliedOffset(400);
  // A later SADD to a skipped key: its effect is already in the copy.
  EXPECT_EQ(M({"SADD", "a1", "x"}), (Requests{{0, {"a1"}}}));
  // Other keys, and the same name in another db, go as usual.
  EXPECT_EQ(M({"SADD", "a2", "x"}), Requests{});
  EXPECT_EQ(M({"SELECT", "1"}), Requests{});
  EXPECT_EQ(M({"SADD", "a1", "y"}), Requests{});
  EXPECT_EQ(Take(), Got(W({"SADD", "a2", "x"}) + Select("1") + W({"SADD", "a1", "y"}), ""));
  EXPECT_EQ(M({"SELECT", "0"}), Requests{});
  // A command touching a skipped key and another one: all its keys, fresh.
  EXPECT_EQ(M({"DEL", "a3", "b1"}), (Requests{{0, {"a3", "b1"}}}));
  Emit(0, Absent("a3"), 1200);
  Emit(0, Absent("b1"), 1200);
  EXPECT_EQ(Take(), Got(Select("0") + W({"DEL", "a3"}), W({"DEL", "b1"})));
  EXPECT_EQ(router_.skipped_keys(), 3u);
  router_.SetAppliedOffset(1000);  // a1's window ends; a3's and b1's go on
  EXPECT_EQ(router_.skipped_keys(), 2u);
  EXPECT_EQ(M({"SADD", "a1", "z"}), Requests{});
  EXPECT_EQ(M({"SET", "b1", "v"}), (Requests{{0, {"b1"}}}));
  router_.SetAppliedOffset(1200);
  EXPECT_EQ(router_.skipped_keys(), 0u);
  EXPECT_EQ(M({"SET", "b1", "v"}), Requests{});
  EXPECT_EQ(Take(), Got(W({"SADD", "a1", "z"}), W({"SET", "b1", "v"})));
}

TEST_F(MaterializeTest, InsideMultiTheCopiesJoinTheTransactionPart) {
  EXPECT_EQ(M({"MULTI"}), Requests{});
  EXPECT_EQ(M({"SET", "a1", "v"}), Requests{});
  EXPECT_EQ(M({"SELECT", "2"}), Requests{});
  EXPECT_EQ(M({"RENAME", "a5", "b5"}), (Requests{{2, {"a5", "b5"}}}));
  Emit(2, Absent("a5"), 900);
  Emit(2, Present("b5", "P5"), 900);
  EXPECT_EQ(M({"SET", "a6", "x"}), Requests{});
  EXPECT_EQ(M({"SET", "b5", "x"}), (Requests{{2, {"b5"}}}));  // skipped: fresh copy
  Emit(2, Present("b5", "P5x"), 950);
  EXPECT_EQ(Take(), Got("", ""));
  EXPECT_EQ(M({"EXEC"}), Requests{});
  EXPECT_EQ(Take(),
            Got(kMulti + Select("0") + W({"SET", "a1", "v"}) + Select("2") + W({"DEL", "a5"}) +
                    W({"SET", "a6", "x"}) + kExec,
                kMulti + Select("2") + W({"RESTORE", "b5", "0", "P5", "REPLACE", "ABSTTL"}) +
                    W({"RESTORE", "b5", "0", "P5x", "REPLACE", "ABSTTL"}) + kExec));
  EXPECT_EQ(router_.target_db(0), 2);
  EXPECT_EQ(router_.target_db(1), 2);
  // A copy into a db other than the source's current one.
  EXPECT_EQ(M({"SELECT", "0"}), Requests{});
  Emit(3, Present("a7", "P7"), 990);
  EXPECT_EQ(M({"SET", "a8", "v"}), Requests{});
  EXPECT_EQ(Take(), Got(Select("3") + W({"RESTORE", "a7", "0", "P7", "REPLACE", "ABSTTL"}) +
                            Select("0") + W({"SET", "a8", "v"}),
                        ""));
}

TEST_F(MaterializeTest, FlushAndSwapdbRequestTheSkippedKeysAgain) {
  ASSERT_EQ(M({"RENAME", "a1", "b1"}), (Requests{{0, {"a1", "b1"}}}));
  Emit(0, Absent("a1"), 1000);
  Emit(0, Present("b1", "PB"), 1000);
  Take();
  Requests flushed_db = M({"FLUSHDB"});  // in hash order
  ASSERT_EQ(flushed_db.size(), 1u);
  std::sort(flushed_db[0].keys.begin(), flushed_db[0].keys.end());
  EXPECT_EQ(flushed_db, (Requests{{0, {"a1", "b1"}}}));
  EXPECT_EQ(Take(), Got(W({"FLUSHDB"}), W({"FLUSHDB"})));
  EXPECT_EQ(M({"SELECT", "1"}), Requests{});
  EXPECT_EQ(M({"FLUSHDB"}), Requests{});  // no skipped key in db 1
  Requests swapped = M({"SWAPDB", "0", "1"});
  ASSERT_EQ(swapped.size(), 2u);
  std::sort(swapped[0].keys.begin(), swapped[0].keys.end());
  std::sort(swapped[1].keys.begin(), swapped[1].keys.end());
  EXPECT_EQ(swapped, (Requests{{0, {"a1", "b1"}}, {1, {"a1", "b1"}}}));
  Requests flushed = M({"FLUSHALL"});
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0].db, 0);
  EXPECT_EQ(flushed[0].keys.size(), 2u);
  // MOVE of a skipped key: both dbs.
  EXPECT_EQ(M({"SELECT", "0"}), Requests{});
  EXPECT_EQ(M({"MOVE", "b1", "4"}), (Requests{{0, {"b1"}}, {4, {"b1"}}}));
  // COPY across targets into another db.
  EXPECT_EQ(M({"COPY", "a9", "b9", "DB", "5"}), (Requests{{5, {"b9"}}}));
}

TEST_F(MaterializeTest, CoveringWindowsDropWhatTheCopyHoldsAndCopyOnlyTheRest) {
  router_.set_cover_new_windows(true);
  ASSERT_EQ(M({"LMOVE", "a1", "b1", "LEFT", "LEFT"}), (Requests{{0, {"a1", "b1"}}}));
  Emit(0, Present("a1", "PA"), 1000);
  Emit(0, Present("b1", "PB"), 1000);
  Take();
  router_.SetCommandOffset(400);  // a command read after the copy was asked for
  // Inside both windows: the copies hold its effect.
  EXPECT_EQ(M({"SADD", "a1", "x"}), Requests{});
  EXPECT_EQ(M({"SUNIONSTORE", "b1", "a1"}), Requests{});
  // What it changes is covered; what it only reads does not matter.
  EXPECT_EQ(M({"SUNIONSTORE", "a1", "b2"}), Requests{});
  EXPECT_EQ(Take(), Got("", ""));
  EXPECT_EQ(router_.counters(0).commands_dropped, 3u);
  // A covered key and another one: only the other is copied.
  EXPECT_EQ(M({"LMOVE", "a1", "b2", "LEFT", "LEFT"}), (Requests{{0, {"b2"}}}));
  // A key it only reads is ahead on its target: what it changes is copied,
  // though on the same target and in no window.
  EXPECT_EQ(M({"SUNIONSTORE", "a3", "a1"}), (Requests{{0, {"a3"}}}));
  // A copy no newer than the window's end is not sent again; a newer one is.
  Emit(0, Present("a1", "PA-old"), 900);
  Emit(0, Present("a1", "PA"), 1000);
  EXPECT_EQ(Take(), Got("", ""));
  Emit(0, Present("a1", "PA2"), 1100);
  EXPECT_EQ(Take(), Got(W({"RESTORE", "a1", "0", "PA2", "REPLACE", "ABSTTL"}), ""));
  // Past the end, the key's commands go as usual.
  router_.SetCommandOffset(1100);
  EXPECT_EQ(M({"SADD", "a1", "y"}), Requests{});
  EXPECT_EQ(Take(), Got(W({"SADD", "a1", "y"}), ""));
  // Once they stop covering (a target's stream restarts), the rule is the
  // original one: copy again.
  router_.SetCommandOffset(400);
  router_.StopWindowCover();
  EXPECT_EQ(M({"SADD", "b1", "x"}), (Requests{{0, {"b1"}}}));
  Emit(0, Present("b1", "PB"), 1000);  // sent again: it is not covering
  EXPECT_EQ(Take(), Got("", W({"RESTORE", "b1", "0", "PB", "REPLACE", "ABSTTL"})));
}

TEST_F(MaterializeTest, AFlushSendsTheCopiesOfCoveredKeysAgain) {
  router_.set_cover_new_windows(true);
  ASSERT_EQ(M({"RENAME", "a1", "b1"}), (Requests{{0, {"a1", "b1"}}}));
  Emit(0, Absent("a1"), 1000);
  Emit(0, Present("b1", "PB"), 1000);
  Take();
  Requests flushed = M({"FLUSHALL"});
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0].keys.size(), 2u);
  // Copied again as of the same offset (nothing else was written): sent,
  // though the window already ended there, since the flush emptied it.
  Emit(0, Absent("a1"), 1000);
  Emit(0, Present("b1", "PB"), 1000);
  EXPECT_EQ(Take(), Got(W({"FLUSHALL"}) + W({"DEL", "a1"}),
                        W({"FLUSHALL"}) + W({"RESTORE", "b1", "0", "PB", "REPLACE", "ABSTTL"})));
}

TEST_F(MaterializeTest, InspectSaysWhatRouteWouldNeedWithoutRouting) {
  auto inspect = [&](std::initializer_list<std::string_view> args, int* db) {
    static std::string wire;
    wire = W(args);
    RespParser parser;
    RespCommand cmd;
    size_t consumed = 0;
    EXPECT_EQ(parser.Parse(wire, &consumed, &cmd), ParseResult::kOk);
    CommandNeeds needs;
    router_.Inspect(cmd, db, &needs);
    std::vector<std::pair<int, std::string>> keys;
    for (const KeyRef& ref : needs.keys) keys.emplace_back(ref.db, std::string(ref.key));
    return std::make_tuple(needs.route, needs.barrier, needs.copy, keys);
  };
  using Keys = std::vector<std::pair<int, std::string>>;
  int db = 0;
  EXPECT_EQ(inspect({"SET", "a1", "v"}, &db),
            std::make_tuple(RouteKind::kKeyed, false, false, Keys{{0, "a1"}}));
  EXPECT_EQ(inspect({"DEL", "a1", "b1"}, &db),
            std::make_tuple(RouteKind::kSplitKeys, false, false, Keys{{0, "a1"}, {0, "b1"}}));
  EXPECT_EQ(inspect({"SMOVE", "a1", "b1", "m"}, &db),
            std::make_tuple(RouteKind::kKeyed, false, false, Keys{{0, "a1"}, {0, "b1"}}));
  EXPECT_EQ(inspect({"RENAME", "a1", "b1"}, &db),
            std::make_tuple(RouteKind::kKeyed, false, true, Keys{{0, "a1"}, {0, "b1"}}));
  EXPECT_EQ(inspect({"MOVE", "a1", "3"}, &db),
            std::make_tuple(RouteKind::kKeyed, false, false, Keys{{0, "a1"}, {3, "a1"}}));
  EXPECT_EQ(inspect({"SELECT", "2"}, &db),
            std::make_tuple(RouteKind::kSelect, false, false, Keys{}));
  EXPECT_EQ(db, 2);
  EXPECT_EQ(inspect({"SET", "b1", "v"}, &db),
            std::make_tuple(RouteKind::kKeyed, false, false, Keys{{2, "b1"}}));
  EXPECT_EQ(inspect({"MULTI"}, &db), std::make_tuple(RouteKind::kMulti, false, false, Keys{}));
  EXPECT_EQ(inspect({"PING"}, &db), std::make_tuple(RouteKind::kBroadcast, false, false, Keys{}));
  EXPECT_EQ(inspect({"FLUSHDB"}, &db),
            std::make_tuple(RouteKind::kBroadcastInDb, true, false, Keys{}));
  // What Route refuses waits for its turn to be refused.
  EXPECT_TRUE(std::get<1>(inspect({"EVAL", "return 1", "0"}, &db)));
  EXPECT_TRUE(std::get<1>(inspect({"NOSUCHCOMMAND", "x"}, &db)));
  int unknown = kUnknownDb;
  EXPECT_TRUE(std::get<1>(inspect({"SET", "a1", "v"}, &unknown)));
  router_.set_fail_on_cross_target(true);
  EXPECT_EQ(inspect({"RENAME", "a1", "b1"}, &db),
            std::make_tuple(RouteKind::kKeyed, true, false, Keys{{2, "a1"}, {2, "b1"}}));
  router_.set_fail_on_cross_target(false);
  // Windows: a key inside one is copied again; a flush names the keys it
  // changes.
  db = 0;
  ASSERT_EQ(M({"RENAME", "a1", "b1"}), (Requests{{0, {"a1", "b1"}}}));
  Emit(0, Absent("a1"), 1000);
  EXPECT_EQ(inspect({"SET", "a1", "v"}, &db),
            std::make_tuple(RouteKind::kKeyed, false, true, Keys{{0, "a1"}}));
  EXPECT_EQ(inspect({"FLUSHDB"}, &db),
            std::make_tuple(RouteKind::kBroadcastInDb, true, true, Keys{{0, "a1"}}));
  EXPECT_EQ(Take(), Got(Select("0") + W({"DEL", "a1"}), ""));  // Inspect sent nothing
}

TEST_F(MaterializeTest, KeylessScriptsStillFailAndTheFailOptionRefuses) {
  std::vector<Materialization> requests;
  auto route = [&](std::initializer_list<std::string_view> args) {
    RespParser parser;
    RespCommand cmd;
    size_t consumed = 0;
    std::string wire = W(args);
    EXPECT_EQ(parser.Parse(wire, &consumed, &cmd), ParseResult::kOk);
    return router_.Route(cmd, &out_, &requests).ToString();
  };
  EXPECT_EQ(route({"EVAL", "return 1", "0"}),
            "FAILED_PRECONDITION: EVAL names no keys: cannot choose its targets");
  EXPECT_EQ(route({"FCALL", "f", "0"}),
            "FAILED_PRECONDITION: FCALL names no keys: cannot choose its targets");
  EXPECT_EQ(route({"MIGRATE", "h", "1", "a1", "0", "1000"}),
            "FAILED_PRECONDITION: unknown command 'MIGRATE': cannot route it");
  router_.set_fail_on_cross_target(true);
  EXPECT_EQ(route({"RENAME", "a1", "b1"}),
            "FAILED_PRECONDITION: RENAME keys 'a1' (target 0), 'b1' (target 1) span targets 0, 1: "
            "cross-target writes are refused (fail_on_cross_target_write)");
  EXPECT_TRUE(requests.empty());
  EXPECT_EQ(Take(), Got("", ""));
}

}  // namespace
}  // namespace reshard::engine
