// The built-in command table checked against a real redis-server: its
// COMMAND reply (key specs) and COMMAND GETKEYS.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/resp/command_table.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_binaries.h"
#include "tests/support/test_servers.h"

namespace reshard::engine {
namespace {

using testing::RedisClient;
using testing::RedisServer;

class CommandTableLiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  RedisClient Connect() { return ::reshard::testing::Connect(*server_); }
  static RedisServer* server_;
};

RedisServer* CommandTableLiveTest::server_ = nullptr;

// Rows of the built-in table for commands newer than Redis 7.0: checked
// against Redis 8.0 and Valkey 9.1 below; DELEX, XDELEX and XACKDEL (Redis
// 8.2-8.4) only against their published key specs.
bool IsNewerThan70(const std::string& name) {
  static const char* const kNewer[] = {
      "DELEX",    "DELIFEQ",  "HEXPIRE",    "HEXPIREAT",    "HEXPIRETIME", "HGETDEL", "HGETEX",
      "HPERSIST", "HPEXPIRE", "HPEXPIREAT", "HPEXPIRETIME", "HPTTL",       "HSETEX",  "HTTL",
      "MSETEX",   "VADD",     "VREM",       "VSETATTR",     "XACKDEL",     "XDELEX"};
  for (const char* newer : kNewer) {
    if (name == newer) return true;
  }
  return false;
}

// A table made of the server's reply alone.
CommandTable ServerTable(RedisClient& client) {
  auto reply = client.CheckedCommand({"COMMAND"});
  EXPECT_TRUE(reply.ok()) << reply.status();
  auto table = CommandTable::FromCommandReply(*reply, CommandTable());
  EXPECT_TRUE(table.ok()) << table.status();
  return std::move(*table);
}

TEST_F(CommandTableLiveTest, BuiltinKeySpecsMatchTheServers) {
  RedisClient client = Connect();
  CommandTable server = ServerTable(client);
  const CommandTable& builtin = CommandTable::Builtin();
  size_t compared = 0;
  for (const CommandInfo* row : server.Rows()) {
    if (row->has_subcommands) continue;
    const CommandInfo* mine = builtin.FindByName(row->name);
    if (mine == nullptr) {
      // Only commands whose keys the server itself cannot describe fully.
      EXPECT_EQ(row->name, "") << "the built-in table lacks " << row->name;
      continue;
    }
    EXPECT_EQ(mine->arity, row->arity) << row->name;
    EXPECT_EQ(mine->key_specs, row->key_specs) << row->name;
    if (row->name != "EVAL" && row->name != "EVALSHA" && row->name != "FCALL") {
      EXPECT_EQ(mine->write, row->write) << row->name;
    }
    ++compared;
  }
  EXPECT_GT(compared, 170u);
  // Every keyed row of ours is one the server knows (SORT's keys are found by
  // code, as in Redis).
  for (const CommandInfo* mine : builtin.Rows()) {
    if (mine->key_specs.empty() || IsNewerThan70(mine->name)) continue;
    EXPECT_NE(server.FindByName(mine->name), nullptr) << mine->name;
  }
}

TEST_F(CommandTableLiveTest, Resp3ReplyGivesTheSameTable) {
  RedisClient client2 = Connect();
  CommandTable resp2 = ServerTable(client2);
  RedisClient client3 = Connect();
  ASSERT_TRUE(client3.CheckedCommand({"HELLO", "3"}).ok());
  CommandTable resp3 = ServerTable(client3);
  ASSERT_EQ(resp2.size(), resp3.size());
  for (const CommandInfo* row : resp2.Rows()) {
    const CommandInfo* other = resp3.FindByName(row->name);
    ASSERT_NE(other, nullptr) << row->name;
    EXPECT_EQ(*row, *other) << row->name;
  }
}

TEST_F(CommandTableLiveTest, EveryWriteCommandIsRoutable) {
  RedisClient client = Connect();
  auto reply = client.CheckedCommand({"COMMAND"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  std::vector<std::string> missing;
  auto check = [&](const RespValue& entry) {
    bool write = false;
    for (const RespValue& f : entry.elements[2].elements) write |= f.IsString("write");
    if (write && CommandTable::Builtin().FindByName(entry.elements[0].str) == nullptr) {
      missing.push_back(entry.elements[0].str);
    }
  };
  for (const RespValue& entry : reply->elements) {
    check(entry);
    if (entry.elements.size() > 9) {
      for (const RespValue& sub : entry.elements[9].elements) check(sub);
    }
  }
  // MIGRATE reaches replicas as DEL; routing it would copy keys elsewhere.
  EXPECT_EQ(missing, std::vector<std::string>({"migrate"}));
}

TEST_F(CommandTableLiveTest, KeysMatchCommandGetkeys) {
  RedisClient client = Connect();
  const std::vector<std::vector<std::string>> commands = {
      {"SET", "k", "v", "PXAT", "1"},
      {"SETEX", "k", "10", "v"},
      {"GETDEL", "k"},
      {"APPEND", "k", "x"},
      {"INCRBYFLOAT", "k", "1.5"},
      {"MSET", "a", "1", "b", "2", "c", "3"},
      {"MSETNX", "a", "1", "b", "2"},
      {"DEL", "a", "b", "c"},
      {"UNLINK", "a", "b"},
      {"EXISTS", "a", "b"},
      {"TOUCH", "a", "b"},
      {"PEXPIREAT", "k", "1700000000000"},
      {"PERSIST", "k"},
      {"RENAME", "a", "b"},
      {"RENAMENX", "a", "b"},
      {"COPY", "a", "b", "DB", "1", "REPLACE"},
      {"MOVE", "k", "1"},
      {"RESTORE", "k", "0", "payload", "REPLACE", "ABSTTL"},
      {"LPUSH", "l", "x", "y"},
      {"LMOVE", "a", "b", "LEFT", "RIGHT"},
      {"RPOPLPUSH", "a", "b"},
      {"LMPOP", "2", "a", "b", "LEFT", "COUNT", "2"},
      {"HSET", "h", "f", "v", "g", "w"},
      {"HINCRBYFLOAT", "h", "f", "1"},
      {"SADD", "s", "m"},
      {"SMOVE", "a", "b", "m"},
      {"SINTERSTORE", "d", "a", "b"},
      {"SINTERCARD", "2", "a", "b", "LIMIT", "1"},
      {"ZADD", "z", "1", "m"},
      {"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"},
      {"ZDIFFSTORE", "d", "2", "a", "b"},
      {"ZRANGESTORE", "d", "s", "0", "-1"},
      {"ZMPOP", "2", "a", "b", "MIN"},
      {"XADD", "x", "1-1", "f", "v"},
      {"XTRIM", "x", "MAXLEN", "10"},
      {"XGROUP", "CREATE", "x", "g", "$", "MKSTREAM"},
      {"XGROUP", "SETID", "x", "g", "0"},
      {"XCLAIM", "x", "g", "c", "0", "1-1", "FORCE"},
      {"XAUTOCLAIM", "x", "g", "c", "0", "0-0"},
      {"XACK", "x", "g", "1-1"},
      {"XSETID", "x", "5-0"},
      {"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "b", ">", ">"},
      {"PFADD", "h", "a"},
      {"PFMERGE", "d", "a", "b"},
      {"GEOADD", "g", "0", "0", "m"},
      {"GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"},
      {"GEORADIUSBYMEMBER", "g", "m", "1", "km", "STOREDIST", "d"},
      {"GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"},
      {"SETBIT", "b", "7", "1"},
      {"BITFIELD", "b", "SET", "u8", "0", "1"},
      {"BITOP", "XOR", "d", "a", "b"},
      {"SORT", "k", "LIMIT", "0", "5", "GET", "#", "ALPHA", "STORE", "d"},
      {"EVAL", "return 1", "2", "a", "b", "arg"},
      {"EVALSHA", "0123456789012345678901234567890123456789", "1", "a"},
      {"FCALL", "f", "2", "a", "b"},
  };
  const CommandTable& table = CommandTable::Builtin();
  for (const std::vector<std::string>& args : commands) {
    std::vector<std::string> getkeys = {"COMMAND", "GETKEYS"};
    getkeys.insert(getkeys.end(), args.begin(), args.end());
    auto reply = client.CheckedCommand(getkeys);
    ASSERT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> want;
    for (const RespValue& k : reply->elements) want.push_back(k.str);

    std::vector<std::string_view> views(args.begin(), args.end());
    const CommandInfo* info = table.Find(views);
    ASSERT_NE(info, nullptr) << args[0];
    std::vector<size_t> idx;
    ASSERT_TRUE(FindCommandKeys(*info, views, &idx).ok()) << args[0];
    std::vector<std::string> got;
    for (size_t i : idx) got.push_back(args[i]);
    EXPECT_EQ(got, want) << args[0];
  }
}

// Redis 8.0 and Valkey 9.1 (built by scripts/fetch_servers.sh): every keyed
// write they have is in the built-in table, with their arity and key specs.
struct NewerServer {
  std::string name, env, fetched;
};

std::ostream& operator<<(std::ostream& out, const NewerServer& s) { return out << s.name; }

class NewerServerCommandTableTest : public ::testing::TestWithParam<NewerServer> {};

TEST_P(NewerServerCommandTableTest, BuiltinRowsMatchTheServersKeySpecs) {
  std::optional<std::string> binary = testing::FindServerBinary(GetParam().env, GetParam().fetched);
  if (!binary.has_value()) {
    GTEST_SKIP() << GetParam().name << " not found: run scripts/fetch_servers.sh or set "
                 << GetParam().env;
  }
  testing::RedisServerOptions options;
  options.binary = *binary;
  std::unique_ptr<RedisServer> server = testing::StartServer(options);
  ASSERT_NE(server, nullptr);
  RedisClient client = ::reshard::testing::Connect(*server);
  CommandTable table = ServerTable(client);
  const CommandTable& builtin = CommandTable::Builtin();
  std::vector<std::string> lacking;
  size_t newer_compared = 0;
  for (const CommandInfo* row : table.Rows()) {
    if (row->has_subcommands || row->key_specs.empty()) continue;
    const CommandInfo* mine = builtin.FindByName(row->name);
    if (mine == nullptr) {
      if (row->write && row->name != "MIGRATE") lacking.push_back(row->name);
      continue;
    }
    if (!IsNewerThan70(row->name)) continue;
    EXPECT_EQ(mine->arity, row->arity) << row->name;
    EXPECT_EQ(mine->key_specs, row->key_specs) << row->name;
    EXPECT_EQ(mine->write, row->write) << row->name;
    ++newer_compared;
  }
  EXPECT_THAT(lacking, ::testing::IsEmpty()) << "keyed writes the built-in table lacks";
  EXPECT_GE(newer_compared, 12u);
}

INSTANTIATE_TEST_SUITE_P(
    Servers, NewerServerCommandTableTest,
    ::testing::Values(NewerServer{"Redis8", "RESHARD_REDIS8_SERVER", "redis-8.0/bin/redis-server"},
                      NewerServer{"Valkey9", "RESHARD_VALKEY9_SERVER",
                                  "valkey-9.1/bin/valkey-server"}),
    [](const ::testing::TestParamInfo<NewerServer>& info) { return info.param.name; });

}  // namespace
}  // namespace reshard::engine
