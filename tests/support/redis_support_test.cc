// Checks the test support itself against a real redis-server.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_binaries.h"
#include "tests/support/shard_check.h"
#include "tests/support/stall_proxy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_servers.h"

namespace reshard::testing {
namespace {

using namespace std::string_literals;

TEST(PickFreePortTest, NeverRepeatsAPort) {
  std::set<uint16_t> ports;
  for (int i = 0; i < 50; ++i) {
    const uint16_t port = PickFreePort();
    EXPECT_NE(port, 0);
    EXPECT_NE(port, 6379);
    EXPECT_TRUE(ports.insert(port).second) << port;
  }
}

TEST(RedisServerTest, StartsAnswersAndStopsByPid) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const pid_t pid = (*server)->pid();
  const std::string dir = (*server)->dir();
  EXPECT_GT(pid, 0);
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string((*server)->port()));

  auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto dir_config = client->CheckedCommand({"CONFIG", "GET", "dir"});
  ASSERT_TRUE(dir_config.ok()) << dir_config.status();
  EXPECT_EQ(dir_config->elements.at(1).str, std::filesystem::canonical(dir).string());
  auto save = client->CheckedCommand({"CONFIG", "GET", "save"});
  ASSERT_TRUE(save.ok());
  EXPECT_EQ(save->elements.at(1).str, "");

  ASSERT_TRUE((*server)->Stop().ok());
  EXPECT_FALSE((*server)->running());
  EXPECT_EQ(::kill(pid, 0), -1);  // Reaped: the PID no longer exists.
  server->reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RedisServerTest, RestartKeepsPortAndDir) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->port();
  ASSERT_TRUE((*server)->Restart().ok());
  EXPECT_EQ((*server)->port(), port);
  auto client = RedisClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(client->Command({"PING"})->IsString("PONG"));
  ASSERT_TRUE((*server)->Kill().ok());
  EXPECT_FALSE(RedisClient::Connect("127.0.0.1", port).ok());
}

TEST(RedisServerTest, FailureToStartShowsTheLog) {
  RedisServerOptions options;
  options.extra_args = {"--no-such-option", "1"};
  auto server = RedisServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("no-such-option"), absl::string_view::npos)
      << server.status();

  options = {};
  options.binary = "/nonexistent/redis-server";
  server = RedisServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("exec failed"), absl::string_view::npos)
      << server.status();
}

// Old Redis and Valkey builds fetched by scripts/fetch_servers.sh, when the
// environment names them (RESHARD_REDIS6_SERVER=DIR/redis-6.0/bin/redis-server,
// RESHARD_VALKEY_SERVER=DIR/valkey-8.0/bin/valkey-server).
struct FetchedServer {
  const char* name;  // the test parameter's name
  const char* env;   // the variable naming its binary
};

// gtest prints the parameter by this (instead of its bytes).
std::ostream& operator<<(std::ostream& out, const FetchedServer& server) {
  return out << server.name;
}

class OtherServerTest : public ::testing::TestWithParam<FetchedServer> {};

TEST_P(OtherServerTest, StartsWithTheSameDefaults) {
  const char* binary = std::getenv(GetParam().env);
  if (binary == nullptr || binary[0] == '\0') GTEST_SKIP() << GetParam().env << " is not set";
  RedisServerOptions options;
  options.binary = binary;
  auto server = RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->CheckedCommand({"SET", "k", "v"}).ok());
  auto version = client->InfoField("server", "redis_version");
  ASSERT_TRUE(version.ok()) << version.status();
  std::cout << binary << ": redis_version " << *version << "\n";
  const pid_t pid = (*server)->pid();
  ASSERT_TRUE((*server)->Stop().ok());
  EXPECT_EQ(::kill(pid, 0), -1);
}

INSTANTIATE_TEST_SUITE_P(FetchedServers, OtherServerTest,
                         ::testing::Values(FetchedServer{"Redis6", "RESHARD_REDIS6_SERVER"},
                                           FetchedServer{"Valkey8", "RESHARD_VALKEY_SERVER"}),
                         [](const ::testing::TestParamInfo<FetchedServer>& info) {
                           return std::string(info.param.name);
                         });

TEST(RedisClientTest, PipelineKeysPttlDumpInfo) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();

  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 100000; ++i) commands.push_back({"SET", "key:" + std::to_string(i), "v"});
  auto replies = client->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 100000u);
  EXPECT_TRUE(replies->back().IsString("OK"));
  auto keys = client->Keys(0);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 100000u);
  EXPECT_EQ(keys->front(), "key:0");
  EXPECT_TRUE(std::is_sorted(keys->begin(), keys->end()));

  // Binary keys and values, another db, and the selected db is restored.
  ASSERT_TRUE(client->CheckedCommand({"SELECT", "3"}).ok());
  ASSERT_TRUE(client->CheckedCommand({"SET", "b\0\xff"s, "x\r\ny"s, "PX", "100000"}).ok());
  ASSERT_TRUE(client->CheckedCommand({"SELECT", "0"}).ok());
  auto db3 = client->Keys(3);
  ASSERT_TRUE(db3.ok());
  EXPECT_EQ(*db3, std::vector<std::string>{"b\0\xff"s});
  EXPECT_EQ(client->Command({"DBSIZE"})->integer, 100000);

  ASSERT_TRUE(client->CheckedCommand({"SELECT", "3"}).ok());
  auto pttl = client->Pttl("b\0\xff"s);
  ASSERT_TRUE(pttl.ok());
  EXPECT_GT(*pttl, 90000);
  EXPECT_LE(*pttl, 100000);
  EXPECT_EQ(*client->Pttl("missing"), -2);
  auto dump = client->Dump("b\0\xff"s);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_TRUE(dump->has_value());
  EXPECT_EQ((**dump)[0], '\0');  // RDB type 0: string
  EXPECT_NE((*dump)->find("x\r\ny"), std::string::npos);
  auto missing = client->Dump("missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto role = client->InfoField("replication", "role");
  ASSERT_TRUE(role.ok()) << role.status();
  EXPECT_EQ(*role, "master");
  EXPECT_EQ(client->InfoField("replication", "nope").status().code(), absl::StatusCode::kNotFound);

  auto error = client->Command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(error.ok());
  EXPECT_TRUE(error->IsError());
  EXPECT_FALSE(client->CheckedCommand({"NOSUCHCOMMAND"}).ok());
}

TEST(RedisClientTest, WaitForKeyWaitsForTheKeyInTheSelectedDb) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status missing = client->WaitForKey("marker", absl::Milliseconds(50), "the marker");
  EXPECT_EQ(missing.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(missing.message().find("waiting for the marker"), absl::string_view::npos) << missing;
  ASSERT_TRUE(client->CheckedCommand({"SET", "marker", "1"}).ok());
  EXPECT_TRUE(client->WaitForKey("marker", absl::Seconds(5), "the marker").ok());
  ASSERT_TRUE(client->CheckedCommand({"SELECT", "1"}).ok());
  EXPECT_FALSE(client->WaitForKey("marker", absl::Milliseconds(50), "the marker").ok());
}

// The oracle of every end-to-end test: equal shards give no problem (sets
// and hashes filled in another order included), and each kind of damage is
// named once, on the right key and target.
TEST(ShardCheckTest, NamesEveryKindOfDamageAndNothingElse) {
  std::unique_ptr<RedisServer> source = StartServer(), a = StartServer(), b = StartServer();
  ASSERT_TRUE(source && a && b);
  RedisClient src = Connect(*source), ca = Connect(*a), cb = Connect(*b);
  const std::vector<std::vector<std::string>> a_keys = {
      {"SET", "a:str", "v"},
      {"SET", "a:ttl", "v", "PXAT", "4102444800000"},
      {"SET", "a:gone", "v"},
      {"RPUSH", "a:list", "1", "2", "3"},
      {"SADD", "a:set", "x", "y", "z"},
      {"ZADD", "a:zset", "1", "m", "2", "n"},
      {"HSET", "a:hash", "f", "1", "g", "2"},
      {"XADD", "a:stream", "1-1", "f", "v"},
      {"XGROUP", "CREATE", "a:stream", "g1", "0"},
  };
  const std::vector<std::vector<std::string>> b_keys = {
      {"SET", "b:str", "v"}, {"SADD", "b:set", "p", "q"}, {"SET", "b:misplaced", "v"}};
  for (RedisClient* c : {&src, &ca}) ASSERT_NO_FATAL_FAILURE(RunWithoutErrors(*c, a_keys));
  for (RedisClient* c : {&src, &cb}) ASSERT_NO_FATAL_FAILURE(RunWithoutErrors(*c, b_keys));
  // The same set and hash on the source, built in another order.
  ASSERT_NO_FATAL_FAILURE(RunWithoutErrors(src, {{"DEL", "a:set", "a:hash"},
                                                 {"SADD", "a:set", "z", "x", "y"},
                                                 {"HSET", "a:hash", "g", "2", "f", "1"}}));

  auto fa = engine::MakeKeyFilter({engine::FilterKind::kRegex, "^a"});
  auto fb = engine::MakeKeyFilter({engine::FilterKind::kRegex, "^b"});
  ASSERT_TRUE(fa.ok() && fb.ok());
  std::vector<ShardCheckTarget> targets = {{"a", fa->get(), &ca}, {"b", fb->get(), &cb}};
  absl::StatusOr<ShardCheckReport> clean = CheckShards(src, targets, 1);
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_TRUE(clean->ok()) << clean->Summary();
  EXPECT_EQ(clean->source_keys, 11u);
  EXPECT_EQ(clean->keys_per_target, (std::vector<size_t>{8, 3}));

  ASSERT_NO_FATAL_FAILURE(RunWithoutErrors(ca, {{"DEL", "a:gone"},
                                                {"PERSIST", "a:ttl"},
                                                {"RPUSH", "a:list", "4"},
                                                {"ZADD", "a:zset", "3", "m"},
                                                {"HSET", "a:hash", "f", "changed"},
                                                {"XGROUP", "CREATE", "a:stream", "g2", "0"},
                                                {"SET", "b:misplaced", "v"}}));
  ASSERT_NO_FATAL_FAILURE(RunWithoutErrors(cb, {{"SREM", "b:set", "q"}, {"SET", "b:extra", "v"}}));
  absl::StatusOr<ShardCheckReport> damaged = CheckShards(src, targets, 1);
  ASSERT_TRUE(damaged.ok()) << damaged.status();
  using ::testing::StartsWith;
  EXPECT_THAT(damaged->problems,
              ::testing::ElementsAre(
                  "db 0 key 'a:gone' on target a: missing",
                  StartsWith("db 0 key 'a:hash' on target a: value differs: source hash:f=1,g=2"),
                  StartsWith("db 0 key 'a:list' on target a: value differs: source list:1,2,3 "),
                  StartsWith("db 0 key 'a:stream' on target a: value differs: source stream:"),
                  "db 0 key 'a:ttl' on target a: expiry differs: source 4102444800000 target -1",
                  StartsWith("db 0 key 'a:zset' on target a: value differs: source zset:"),
                  "db 0 key 'b:misplaced' on target a: stray (not for this target or not on the "
                  "source)",
                  StartsWith("db 0 key 'b:set' on target b: value differs: source set:p\\x1fq "),
                  "db 0 key 'b:extra' on target b: stray (not for this target or not on the "
                  "source)"))
      << damaged->Summary(20);
}

TEST(TempDirTest, IsFreshAndRemovedWithItsFiles) {
  std::string path;
  {
    TempDir dir("redis_support_test");
    path = dir.path();
    ASSERT_FALSE(path.empty());
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_TRUE(std::filesystem::is_empty(path));
    EXPECT_EQ(dir / "f", path + "/f");
    std::filesystem::create_directories(dir / "sub");
    std::ofstream(dir / "sub/file") << "x";
    TempDir other("redis_support_test");
    EXPECT_NE(other.path(), path);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FindServerBinaryTest, TheVariableFirstThenTheFetchedBuild) {
  constexpr char kVariable[] = "RESHARD_SUPPORT_TEST_SERVER";
  ::unsetenv(kVariable);
  EXPECT_EQ(FindServerBinary(kVariable, "no-such-release/bin/redis-server"), std::nullopt);
  EXPECT_EQ(FindServerBinary(kVariable, ""), std::nullopt);
  ::setenv(kVariable, "/bin/sh", 1);  // any executable
  EXPECT_EQ(FindServerBinary(kVariable, "no-such-release/bin/redis-server"), "/bin/sh");
  TempDir dir("redis_support_test");
  std::ofstream(dir / "not-executable") << "x";
  ::setenv(kVariable, (dir / "not-executable").c_str(), 1);
  EXPECT_EQ(FindServerBinary(kVariable, "no-such-release/bin/redis-server"), std::nullopt);
  ::unsetenv(kVariable);
  EXPECT_EQ(FetchedServerPath("redis-6.0/bin/redis-server"),
            std::string(RESHARD_BINARY_DIR) + "/servers/redis-6.0/bin/redis-server");
}

TEST(StallProxyTest, StallFreezesOpenConnectionsOnlyAndForwardsNewOnes) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto proxy = StallProxy::Start((*server)->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto first = RedisClient::Connect("127.0.0.1", (*proxy)->port(), absl::Milliseconds(300));
  auto second = RedisClient::Connect("127.0.0.1", (*proxy)->port(), absl::Milliseconds(300));
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(first->CheckedCommand({"SET", "k", "1"}).ok());
  ASSERT_TRUE(second->CheckedCommand({"GET", "k"}).ok());
  EXPECT_EQ((*proxy)->Stall(), 2);
  EXPECT_EQ((*proxy)->Stall(), 0);  // already frozen
  // No answer, and no close either: the read times out.
  absl::StatusOr<RespValue> frozen = first->Command({"PING"});
  EXPECT_EQ(frozen.status().code(), absl::StatusCode::kDeadlineExceeded) << frozen.status();
  auto third = RedisClient::Connect("127.0.0.1", (*proxy)->port());
  ASSERT_TRUE(third.ok()) << third.status();
  absl::StatusOr<RespValue> value = third->CheckedCommand({"GET", "k"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->str, "1");
  EXPECT_EQ((*proxy)->accepted(), 3);
}

TEST(RedisClientTest, WaitForPollsUntilTrueOrTimesOut) {
  int calls = 0;
  EXPECT_TRUE(RedisClient::WaitFor([&] { return ++calls == 3; }, absl::Seconds(5)).ok());
  EXPECT_EQ(calls, 3);
  absl::Status status = RedisClient::WaitFor([] { return false; }, absl::Milliseconds(50), "never");
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(status.message().find("waiting for never"), absl::string_view::npos);
}

}  // namespace
}  // namespace reshard::testing
