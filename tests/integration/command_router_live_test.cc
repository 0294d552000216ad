// End to end over real servers: reshard's parser and router take a real
// source's replication stream (read as a replica with PSYNC), and each
// target server that executes its routed bytes ends up with exactly the
// source's keys that its filter selects, with the same values and TTLs.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/resp/resp_parser.h"
#include "engine/route/command_router.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_filters.h"
#include "tests/support/test_servers.h"

namespace reshard::engine {
namespace {

using ::reshard::engine::testing::PrefixFilter;
using ::reshard::testing::Connect;
using ::reshard::testing::EncodeCommand;
using ::reshard::testing::RedisClient;
using ::reshard::testing::RedisServer;
using ::reshard::testing::StartServer;

TEST(CommandRouterLiveTest, TargetsEndWithExactlyTheirKeys) {
  auto source = StartServer();
  auto target_a = StartServer();
  auto target_b = StartServer();
  ASSERT_TRUE(source && target_a && target_b);

  // Attach as a replica; the source is empty, so the RDB can be skipped.
  RedisClient replica = Connect(*source);
  ASSERT_TRUE(replica.SendRaw(EncodeCommand({"PSYNC", "?", "-1"})).ok());
  auto fullresync = replica.ReadReply();
  ASSERT_TRUE(fullresync.ok()) << fullresync.status();
  ASSERT_TRUE(fullresync->str.starts_with("FULLRESYNC")) << fullresync->ToString();
  absl::StatusOr<std::string> len_line = replica.ReadSnapshotHeader();
  ASSERT_TRUE(len_line.ok()) << len_line.status();
  ASSERT_EQ((*len_line)[0], '$') << *len_line;
  ASSERT_TRUE(replica.ReadBytes(std::stoul(len_line->substr(1))).ok());

  // Writes of every kind, on keys of both targets and of neither.
  RedisClient writer = Connect(*source);
  const std::vector<std::vector<std::string>> writes = {
      {"SET", "a1", "v1"},
      {"SET", "b1", "v1", "EX", "1000"},
      {"SET", "c1", "nobody's"},
      {"MSET", "a2", "x", "b2", "y", "c2", "z"},
      {"INCRBYFLOAT", "b3", "1.5"},
      {"HSET", "a3", "f", "1", "g", "2"},
      {"HINCRBYFLOAT", "a3", "f", "0.5"},
      {"RPUSH", "b4", "1", "2", "3"},
      {"LPOP", "b4"},
      {"SADD", "a5", "m1", "m2", "m3"},
      {"SPOP", "a5"},
      {"ZADD", "b5", "1", "m", "2", "n"},
      {"GEOADD", "a6", "13.361389", "38.115556", "Palermo"},
      {"XADD", "b6", "*", "f", "v"},
      {"XGROUP", "CREATE", "b6", "g", "0"},
      {"PFADD", "a7", "x", "y"},
      {"EXPIRE", "a1", "500"},
      {"GETEX", "a2", "PX", "400000"},
      {"DEL", "a2", "b2", "c2"},
      {"MULTI"},
      {"SET", "a8", "t"},
      {"INCR", "b8"},
      {"SELECT", "2"},
      {"LPUSH", "a9", "in db 2"},
      {"EXEC"},
      // The connection stays in db 2 after EXEC.
      {"EVAL", "redis.call('set', KEYS[1], 'e'); redis.call('incr', KEYS[2]); return 1", "2", "b10",
       "b11"},
      {"SELECT", "3"},
      {"SET", "b12", "db3"},
      {"SELECT", "0"},
      {"RENAME", "a8", "a88"},
      {"SET", "zz-end", "1"},
  };
  for (const std::vector<std::string>& w : writes) {
    auto r = writer.Command(w);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE(r->IsError()) << w[0] << ": " << r->ToString();
  }

  // Route the stream as it arrives, byte by byte, until the last write.
  PrefixFilter fa("a"), fb("b");
  CommandRouter router({&fa, &fb}, &CommandTable::Builtin());
  RespParser parser;
  RespCommand cmd;
  std::vector<std::string> out(2);
  std::string buffer;
  bool done = false;
  while (!done) {
    auto b = replica.ReadBytes(1);
    ASSERT_TRUE(b.ok()) << b.status();
    buffer += *b;
    size_t consumed = 0;
    ParseResult r = parser.Parse(buffer, &consumed, &cmd);
    ASSERT_NE(r, ParseResult::kError) << parser.error();
    if (r == ParseResult::kNeedMore) continue;
    absl::Status s = router.Route(cmd, &out);
    ASSERT_TRUE(s.ok()) << s << " for " << buffer;
    done = cmd.args.size() == 3 && cmd.args[1] == "zz-end";
    buffer.erase(0, consumed);
  }

  // Apply each target's bytes to its server, then compare with the source.
  const RedisServer* servers[2] = {target_a.get(), target_b.get()};
  for (size_t t = 0; t < 2; ++t) {
    RedisClient target = Connect(*servers[t]);
    ASSERT_TRUE(target.SendRaw(out[t] + EncodeCommand({"PING", "done"})).ok());
    for (;;) {
      auto reply = target.ReadReply();
      ASSERT_TRUE(reply.ok()) << reply.status();
      ASSERT_FALSE(reply->IsError()) << reply->ToString();
      if (reply->IsString("done")) break;
    }
    const char prefix = t == 0 ? 'a' : 'b';
    for (int db : {0, 2, 3}) {
      auto all = writer.Keys(db);
      ASSERT_TRUE(all.ok()) << all.status();
      std::vector<std::string> want;
      for (const std::string& k : *all) {
        if (k[0] == prefix) want.push_back(k);
      }
      const std::vector<std::vector<std::string>> expected[2] = {
          {{"a1", "a3", "a5", "a6", "a7", "a88"}, {"a9"}, {}},
          {{"b1", "b3", "b4", "b5", "b6", "b8"}, {"b10", "b11"}, {"b12"}}};
      EXPECT_EQ(want, expected[t][db == 0 ? 0 : db - 1]);  // the test is not vacuous
      auto got = target.Keys(db);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, want) << "target " << t << " db " << db;
      ASSERT_TRUE(writer.CheckedCommand({"SELECT", std::to_string(db)}).ok());
      ASSERT_TRUE(target.CheckedCommand({"SELECT", std::to_string(db)}).ok());
      for (const std::string& k : want) {
        auto dump_source = writer.Dump(k);
        auto dump_target = target.Dump(k);
        ASSERT_TRUE(dump_source.ok() && dump_target.ok());
        auto type = writer.CheckedCommand({"TYPE", k});
        ASSERT_TRUE(type.ok()) << type.status();
        if (type->IsString("set")) {
          // A hashtable set's DUMP order depends on the process's hash seed.
          auto members_source = writer.CheckedCommand({"SORT", k, "ALPHA"});
          auto members_target = target.CheckedCommand({"SORT", k, "ALPHA"});
          ASSERT_TRUE(members_source.ok() && members_target.ok());
          EXPECT_EQ(*members_target, *members_source) << k;
        } else {
          EXPECT_EQ(*dump_target, *dump_source) << k;
        }
        auto ttl_source = writer.Pttl(k);
        auto ttl_target = target.Pttl(k);
        ASSERT_TRUE(ttl_source.ok() && ttl_target.ok());
        EXPECT_EQ(*ttl_source > 0, *ttl_target > 0) << k;
        EXPECT_NEAR(static_cast<double>(*ttl_source), static_cast<double>(*ttl_target), 5000) << k;
      }
    }
    ASSERT_TRUE(writer.CheckedCommand({"SELECT", "0"}).ok());
  }
  EXPECT_GT(router.counters(0).commands_split, 0u);
  EXPECT_GT(router.counters(1).commands_split, 0u);
}

}  // namespace
}  // namespace reshard::engine
