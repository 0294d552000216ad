// SourceMonitor against real redis-servers: the key count, the source's
// offset and how long ago it passed an offset, reconnection, AUTH, Close.

#include "engine/link/source_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asio/io_context.hpp"
#include "tests/support/test_servers.h"

namespace reshard::engine {
namespace {

using ::reshard::testing::RedisServer;
using ::testing::StartsWith;

// Runs `io` until `done` or `timeout`; false on timeout.
bool RunUntil(asio::io_context& io, const std::function<bool()>& done,
              absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

RedisEndpoint EndpointOf(const RedisServer& server, std::string password = "") {
  RedisEndpoint endpoint;
  endpoint.address = HostPort{"127.0.0.1", server.port()};
  endpoint.credentials.password = std::move(password);
  return endpoint;
}

uint64_t MasterOffset(const RedisServer& server) {
  testing::RedisClient client = testing::Connect(server);
  absl::StatusOr<RespValue> info = client.CheckedCommand({"INFO", "replication"});
  EXPECT_TRUE(info.ok()) << info.status();
  absl::StatusOr<uint64_t> offset = ParseMasterReplOffset(info.ok() ? info->str : "");
  EXPECT_TRUE(offset.ok()) << offset.status();
  return offset.value_or(0);
}

bool ReplicaLinked(const RedisServer& replica) {
  testing::RedisClient client = testing::Connect(replica);
  absl::StatusOr<RespValue> info = client.CheckedCommand({"INFO", "replication"});
  return info.ok() && info->str.find("master_link_status:up") != std::string::npos;
}

TEST(SourceMonitorParseTest, KeyspaceSumsEveryDb) {
  EXPECT_EQ(*ParseKeyspaceKeys("# Keyspace\r\n"), 0u);
  EXPECT_EQ(*ParseKeyspaceKeys("# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n"
                               "db3:keys=40,expires=0,avg_ttl=0\r\n"),
            43u);
  EXPECT_EQ(ParseKeyspaceKeys("db0:expires=1\r\n").status().message(),
            "INFO keyspace: no keys= in \"db0:expires=1\"");
  EXPECT_EQ(ParseKeyspaceKeys("db0:keys=x,expires=1\r\n").status().message(),
            "INFO keyspace: keys= is not a number in \"db0:keys=x,expires=1\"");
}

TEST(SourceMonitorParseTest, MasterReplOffset) {
  EXPECT_EQ(*ParseMasterReplOffset("role:master\r\nmaster_repl_offset:1234\r\nx:1\r\n"), 1234u);
  EXPECT_EQ(*ParseMasterReplOffset("master_repl_offset:7"), 7u);
  EXPECT_EQ(ParseMasterReplOffset("role:master\r\n").status().message(),
            "INFO replication has no master_repl_offset");
  EXPECT_EQ(ParseMasterReplOffset("master_repl_offset:-\r\n").status().message(),
            "INFO replication: master_repl_offset is not a number");
}

TEST(OffsetHistoryTest, BehindIsTheAgeOfTheFirstOffsetPastTheConsumedOne) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  OffsetHistory history;
  EXPECT_EQ(history.Behind(0, t0), absl::ZeroDuration());
  history.Record(100, t0);
  history.Record(100, t0 + absl::Seconds(1));  // unchanged: keeps the first sighting
  history.Record(250, t0 + absl::Seconds(2));
  history.Record(400, t0 + absl::Seconds(3));
  const absl::Time now = t0 + absl::Seconds(10);
  EXPECT_EQ(history.last(), 400u);
  EXPECT_EQ(history.Behind(400, now), absl::ZeroDuration());
  EXPECT_EQ(history.Behind(500, now), absl::ZeroDuration());
  EXPECT_EQ(history.Behind(399, now), absl::Seconds(7));
  EXPECT_EQ(history.Behind(250, now), absl::Seconds(7));
  EXPECT_EQ(history.Behind(249, now), absl::Seconds(8));
  EXPECT_EQ(history.Behind(100, now), absl::Seconds(8));
  EXPECT_EQ(history.Behind(0, now), absl::Seconds(10));
  // The source went back (restart, failover): the history starts again.
  history.Record(10, t0 + absl::Seconds(11));
  EXPECT_EQ(history.last(), 10u);
  EXPECT_EQ(history.Behind(0, t0 + absl::Seconds(12)), absl::Seconds(1));
  EXPECT_EQ(history.Behind(10, t0 + absl::Seconds(12)), absl::ZeroDuration());
}

TEST(OffsetHistoryTest, KeepsABoundedNumberOfSamples) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  OffsetHistory history;
  for (uint64_t i = 1; i <= OffsetHistory::kMaxSamples + 10; ++i) {
    history.Record(i, t0 + absl::Seconds(i));
  }
  const absl::Time now = t0 + absl::Seconds(OffsetHistory::kMaxSamples + 10);
  // Offsets 1..10 were dropped: the oldest kept (11) is the best bound left.
  EXPECT_EQ(history.Behind(0, now), now - (t0 + absl::Seconds(11)));
  EXPECT_EQ(history.Behind(11, now), now - (t0 + absl::Seconds(12)));
}

class SourceMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No replica PINGs: the offset moves only when the test writes.
    master_ = testing::StartServer({.extra_args = {"--repl-ping-replica-period", "3600"}});
    ASSERT_TRUE(master_);
    replica_ = testing::StartServer(
        {.extra_args = {"--replicaof", "127.0.0.1", std::to_string(master_->port())}});
    ASSERT_TRUE(replica_);
    // Once the replica is linked the master keeps a backlog, so that writes
    // move its offset.
    ASSERT_TRUE(RunUntil(io_, [&] { return ReplicaLinked(*replica_); }));
    testing::RedisClient client = testing::Connect(*master_);
    ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(
        client, {{"SET", "a", "1"}, {"SET", "b", "2"}, {"SELECT", "3"}, {"SET", "c", "3"}}));
    ASSERT_GT(MasterOffset(*master_), 0u);
  }

  asio::io_context io_;
  std::unique_ptr<RedisServer> master_;
  std::unique_ptr<RedisServer> replica_;
};

TEST_F(SourceMonitorTest, ReadsKeyCountAndOffsetAndAgesUnconsumedOffsets) {
  SourceMonitor monitor(io_.get_executor(), EndpointOf(*master_), absl::Milliseconds(50));
  EXPECT_EQ(monitor.master_offset(), 0u);
  EXPECT_EQ(monitor.key_total(), std::nullopt);
  EXPECT_EQ(monitor.SecondsBehind(0), 0);
  monitor.Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return monitor.polls() >= 1; }));
  const absl::Time first_seen = absl::Now();
  EXPECT_EQ(monitor.key_total(), 3u);
  EXPECT_TRUE(monitor.last_error().ok()) << monitor.last_error();
  const uint64_t offset = MasterOffset(*master_);
  EXPECT_EQ(monitor.master_offset(), offset);
  EXPECT_EQ(monitor.SecondsBehind(offset), 0);
  EXPECT_EQ(monitor.SecondsBehind(offset + 100), 0);

  // Not consumed for 300 ms: it is 300 ms (to the poll interval) behind.
  ASSERT_TRUE(RunUntil(io_, [&] { return absl::Now() - first_seen >= absl::Milliseconds(300); }));
  double behind = monitor.SecondsBehind(offset - 1);
  EXPECT_GE(behind, 0.3);
  EXPECT_LT(behind, 0.3 + 0.05 + 0.5);  // interval, and slack for a slow machine

  // A write moves the source on; the key count stays what it was at start.
  testing::RedisClient client = testing::Connect(*master_);
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(client, {{"SET", "d", "4"}}));
  const uint64_t moved = MasterOffset(*master_);
  ASSERT_GT(moved, offset);
  ASSERT_TRUE(RunUntil(io_, [&] { return monitor.master_offset() == moved; }));
  EXPECT_LT(monitor.SecondsBehind(offset), 0.5);
  EXPECT_GE(monitor.SecondsBehind(offset - 1), 0.3);
  EXPECT_EQ(monitor.key_total(), 3u);
}

TEST_F(SourceMonitorTest, ReconnectsAfterTheSourceGoesAway) {
  SourceMonitor monitor(io_.get_executor(), EndpointOf(*master_), absl::Milliseconds(50));
  monitor.Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return monitor.polls() >= 1; }));
  ASSERT_TRUE(master_->Stop().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return !monitor.last_error().ok(); }));
  EXPECT_EQ(monitor.last_error().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(monitor.last_error().message()),
              StartsWith(absl::StrCat("source (monitor) 127.0.0.1:", master_->port(), ": ")));
  // The last known offset is kept while the source is away.
  EXPECT_GT(monitor.master_offset(), 0u);
  ASSERT_TRUE(master_->Restart().ok());
  const uint64_t polls = monitor.polls();
  ASSERT_TRUE(RunUntil(io_, [&] { return monitor.polls() > polls; }));
  EXPECT_TRUE(monitor.last_error().ok()) << monitor.last_error();
}

TEST_F(SourceMonitorTest, CloseStopsPollingAndTheCoroutineEnds) {
  auto monitor = std::make_unique<SourceMonitor>(io_.get_executor(), EndpointOf(*master_),
                                                 absl::Milliseconds(20));
  monitor->Start();
  monitor->Start();  // a second Start does nothing
  ASSERT_TRUE(RunUntil(io_, [&] { return monitor->polls() >= 2; }));
  monitor->Close();
  monitor->Close();
  const uint64_t polls = monitor->polls();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(monitor->polls(), polls);
  EXPECT_TRUE(io_.stopped());  // no work left: the coroutine has ended

  // Destroyed while a poll is in flight: the coroutine ends without it.
  auto second = std::make_unique<SourceMonitor>(io_.get_executor(), EndpointOf(*master_),
                                                absl::Milliseconds(20));
  second->Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return second->polls() >= 1; }));
  second.reset();
  io_.restart();
  io_.run_for(std::chrono::seconds(2));
  EXPECT_TRUE(io_.stopped());
}

TEST(SourceMonitorAuthTest, AuthenticatesAndNamesAWrongPassword) {
  std::unique_ptr<RedisServer> server =
      testing::StartServer({.extra_args = {"--requirepass", "s3cret"}});
  ASSERT_TRUE(server);
  asio::io_context io;
  SourceMonitor wrong(io.get_executor(), EndpointOf(*server, "nope"), absl::Milliseconds(50));
  SourceMonitor right(io.get_executor(), EndpointOf(*server, "s3cret"), absl::Milliseconds(50));
  wrong.Start();
  right.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return right.polls() >= 1 && !wrong.last_error().ok(); }));
  EXPECT_EQ(wrong.last_error().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(
      std::string(wrong.last_error().message()),
      StartsWith(absl::StrCat("source (monitor) 127.0.0.1:", server->port(), ": AUTH failed: ")));
  EXPECT_EQ(wrong.polls(), 0u);
  EXPECT_EQ(right.key_total(), 0u);
  EXPECT_TRUE(right.last_error().ok()) << right.last_error();
}

}  // namespace
}  // namespace reshard::engine
