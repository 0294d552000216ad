// End to end: a seeded randomized write workload on a real source, before,
// during and after the snapshot, split over three real targets by a regex, a
// glob and a slot range that together select every key exactly once. The
// workload covers every data type, expiries, transactions, scripts,
// functions, several dbs, SWAPDB, FLUSHDB, and writes whose keys live on
// different targets (RENAME, SMOVE, SUNIONSTORE, LMOVE, MSETNX, BITOP,
// PFMERGE, GEOSEARCHSTORE, COPY), which the job materialises. Then every key
// of the source must be on exactly its target, with the same value and
// expiry, and nothing else anywhere.
//
// Servers: Redis 7 ("redis-server" on PATH); Redis 6.0 and Valkey 8.0 from
// $RESHARD_REDIS6_SERVER / $RESHARD_VALKEY_SERVER, else
// ${RESHARD_BINARY_DIR}/servers/{redis-6.0,valkey-8.0}/bin/ (what
// scripts/test.sh fetches); skipped when not found.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/job/job.h"
#include "engine/route/hash_slot.h"
#include "engine/route/key_filter.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/random_workload.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_binaries.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

namespace reshard {
namespace {

using engine::FilterKind;
using engine::FilterSpec;
using engine::Job;
using engine::JobSpec;
using engine::JobState;
using engine::JobStatus;
using testing::CheckShards;
using testing::RedisClient;
using testing::RedisServer;
using testing::WaitForState;
using Commands = std::vector<std::vector<std::string>>;

constexpr int kDbs = 4;  // 0-2 for data (SWAPDB 1 2), 3 is the FLUSHDB scratch db

struct Flavor {
  std::string name;     // the test parameter's name
  std::string fetched;  // under ${RESHARD_BINARY_DIR}/servers; empty: PATH
  std::string env;
  bool redis62 = true;      // LMOVE, COPY, GEOSEARCHSTORE
  bool functions = true;    // FUNCTION LOAD, FCALL
  bool field_ttls = false;  // HSETEX, HGETEX, HGETDEL, HPEXPIRE, HPERSIST (Redis 8, Valkey 9)
  // For every server (the replication modes the targets announce).
  std::vector<std::string> server_args = {};
};

// gtest prints the parameter by this (instead of its bytes).
std::ostream& operator<<(std::ostream& out, const Flavor& flavor) { return out << flavor.name; }

// The binary for `flavor`, "" for PATH's redis-server, or nullopt.
std::optional<std::string> FindBinary(const Flavor& flavor) {
  if (flavor.fetched.empty()) return std::string();
  return testing::FindServerBinary(flavor.env, flavor.fetched);
}

// The workload's options for `flavor`.
testing::WorkloadOptions OptionsFor(const Flavor& flavor) {
  testing::WorkloadOptions options;
  options.redis62 = flavor.redis62;
  options.functions = flavor.functions;
  options.field_ttls = flavor.field_ttls;
  return options;
}

std::string Name(int target, const std::string& base) {
  return testing::WorkloadKeyName(target, base);
}

// The largest difference, in ms, between a key's expiry on the source and on
// its target (PTTL, read one after the other), over the keys of dbs 0-2 that
// have one; counts them in *keys.
absl::StatusOr<int64_t> MaxExpiryDrift(RedisClient& source,
                                       const std::vector<testing::ShardCheckTarget>& targets,
                                       int* keys) {
  int64_t max = 0;
  *keys = 0;
  for (int db = 0; db < 3; ++db) {
    std::string index = std::to_string(db);
    if (absl::Status s = source.CheckedCommand({"SELECT", index}).status(); !s.ok()) return s;
    for (const auto& target : targets) {
      if (absl::Status s = target.client->CheckedCommand({"SELECT", index}).status(); !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<engine::RespValue> all = source.CheckedCommand({"KEYS", "*"});
    if (!all.ok()) return all.status();
    for (const engine::RespValue& key : all->elements) {
      absl::StatusOr<engine::RespValue> ttl = source.CheckedCommand({"PTTL", key.str});
      if (!ttl.ok()) return ttl.status();
      if (ttl->integer < 0) continue;
      for (const auto& target : targets) {
        if (!target.filter->Matches(key.str)) continue;
        absl::StatusOr<engine::RespValue> got = target.client->CheckedCommand({"PTTL", key.str});
        if (!got.ok()) return got.status();
        ++*keys;
        max = std::max(max, std::abs(got->integer - ttl->integer));
      }
    }
  }
  if (absl::Status s = source.CheckedCommand({"SELECT", "0"}).status(); !s.ok()) return s;
  return max;
}

absl::Status RunBatch(RedisClient& client, const Commands& commands) {
  absl::StatusOr<std::vector<engine::RespValue>> replies = client.Pipeline(commands);
  return replies.status();  // error replies (missing RENAME source, ...) are fine
}

std::unique_ptr<RedisServer> Start(const std::string& binary, const Flavor& flavor) {
  testing::RedisServerOptions options;
  options.binary = binary;
  options.extra_args = flavor.server_args;
  return testing::StartServer(options);
}

// The live writer's seed: 7, or $RESHARD_WORKLOAD_SEED (to run other
// workloads by hand; the timing varies from run to run anyway).
uint32_t WriterSeed() {
  uint32_t seed = 7;
  const char* env = std::getenv("RESHARD_WORKLOAD_SEED");
  if (env != nullptr && !absl::SimpleAtoi(env, &seed)) seed = 7;
  return seed;
}

class StreamWorkloadTest : public ::testing::TestWithParam<Flavor> {};

TEST_P(StreamWorkloadTest, EveryWriteLandsOnTheRightShardExactly) {
  const Flavor& flavor = GetParam();
  std::optional<std::string> binary = FindBinary(flavor);
  if (!binary.has_value()) {
    GTEST_SKIP() << flavor.name << " not found: fetch it with scripts/test.sh or set "
                 << flavor.env;
  }
  auto source = Start(*binary, flavor);
  std::vector<std::unique_ptr<RedisServer>> targets;
  for (int t = 0; t < 3; ++t) targets.push_back(Start(*binary, flavor));
  ASSERT_TRUE(source && targets[0] && targets[1] && targets[2]);
  absl::StatusOr<RedisClient> source_client = RedisClient::Connect("127.0.0.1", source->port());
  ASSERT_TRUE(source_client.ok()) << source_client.status();
  if (flavor.functions) {
    ASSERT_TRUE(
        source_client
            ->CheckedCommand({"FUNCTION", "LOAD", "REPLACE", testing::kWorkloadFunctionLibrary})
            .ok());
  }
  testing::RandomWorkload before(20240601, OptionsFor(flavor));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(RunBatch(*source_client, before.Batch(100)).ok());
  // Slow the snapshot so that writes land during it (unknown to old servers).
  source_client->Command({"CONFIG", "SET", "rdb-key-save-delay", "2000"}).IgnoreError();

  // Redis 6.0 replicates relative expiries as sent; the job makes them
  // absolute from when it reads them. That is exact while the job keeps up
  // with the source, but this writer outruns it on a busy machine (each
  // cross-target write costs the job a round trip to the source), and a
  // command read seconds after the source ran it gets an expiry as many
  // seconds late; so are those the source buffers while it saves its
  // snapshot (Redis 6.0 sends them once the snapshot is through). So there
  // the writer uses absolute expiries until the job streams and has caught
  // up, then waits for the job every few batches, and the targets are made
  // to apply the stream late instead (DEBUG SLEEP), which the rewrite must
  // absorb.
  const bool relative_expiries_sent = !flavor.redis62;
  std::atomic<Job*> pace{nullptr};
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer([&, port = source->port()] {
    absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port);
    ASSERT_TRUE(client.ok()) << client.status();
    testing::RandomWorkload workload(WriterSeed(), OptionsFor(flavor));
    workload.relative_expiries = !relative_expiries_sent;
    while (!stop.load()) {
      ASSERT_TRUE(RunBatch(*client, workload.Batch(40)).ok());
      int round = rounds.fetch_add(1);
      Job* job = pace.load();
      if (job != nullptr && round % 4 == 0) {
        absl::StatusOr<engine::RespValue> info = client->CheckedCommand({"INFO", "replication"});
        ASSERT_TRUE(info.ok()) << info.status();
        uint64_t offset = 0;
        size_t at = info->str.find("master_repl_offset:");
        ASSERT_NE(at, std::string::npos);
        absl::string_view value = absl::string_view(info->str).substr(at + 19);
        value = value.substr(0, value.find_first_of("\r\n"));
        ASSERT_TRUE(absl::SimpleAtoi(value, &offset)) << value;
        absl::Status caught_up = RedisClient::WaitFor(
            [&] { return job->Snapshot().source_offset >= offset; }, absl::Seconds(30), "job");
        ASSERT_TRUE(caught_up.ok()) << caught_up;
        workload.relative_expiries = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });

  JobSpec spec;
  spec.source.address = source->address();
  const FilterSpec filters[] = {
      {FilterKind::kRegex, "^r:"}, {FilterKind::kGlob, "g:*"}, {FilterKind::kSlots, "0-8191"}};
  const char* names[] = {"regex", "glob", "slots"};
  for (int t = 0; t < 3; ++t) {
    spec.targets.push_back(
        testing::MakeTarget(names[t], filters[t], testing::PickFreePort(), targets[t].get()));
  }
  ASSERT_TRUE(engine::ValidateJobSpec(spec).ok());
  Job job("workload", spec);
  job.Start();
  JobStatus status = WaitForState(job, JobState::kStreaming, absl::Seconds(40));
  ASSERT_EQ(status.state, JobState::kStreaming) << status.error << " " << status.detail;
  source_client->Command({"CONFIG", "SET", "rdb-key-save-delay", "0"}).IgnoreError();
  int at_stream = rounds.load();
  if (relative_expiries_sent) {
    pace = &job;
    ASSERT_TRUE(
        RedisClient::WaitFor([&] { return rounds.load() > at_stream + 30; }, absl::Seconds(30))
            .ok());
    // Targets applying the stream 3 s late: what is routed meanwhile waits.
    std::vector<std::thread> sleepers;
    for (int t = 0; t < 3; ++t) {
      sleepers.emplace_back([port = targets[t]->port()] {
        absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port);
        ASSERT_TRUE(client.ok()) << client.status();
        EXPECT_TRUE(client->CheckedCommand({"DEBUG", "SLEEP", "3"}).ok());
      });
    }
    for (std::thread& sleeper : sleepers) sleeper.join();
  }
  ASSERT_TRUE(
      RedisClient::WaitFor([&] { return rounds.load() > at_stream + 150; }, absl::Seconds(30))
          .ok());
  stop = true;
  writer.join();

  // Markers: everything before them is applied on the targets.
  std::vector<RedisClient> clients;
  ASSERT_TRUE(source_client->CheckedCommand({"SELECT", "0"}).ok());
  for (int t = 0; t < 3; ++t) {
    absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", targets[t]->port());
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(std::move(*client));
    ASSERT_TRUE(source_client->CheckedCommand({"SET", Name(t, "marker"), "1"}).ok());
  }
  for (int t = 0; t < 3; ++t) {
    std::string marker = Name(t, "marker");
    // Cross-target writes cost a round trip to the source each, so on a
    // loaded machine the job can take a while to catch up.
    absl::Status waited = clients[t].WaitForKey(marker, absl::Seconds(120), marker);
    engine::JobStatus status = job.Snapshot();
    ASSERT_TRUE(waited.ok()) << waited << "; job: " << status.error << ", "
                             << engine::JobStateName(status.state) << ", source offset applied "
                             << status.source_offset << ", detail: " << status.detail;
  }

  std::vector<std::unique_ptr<engine::KeyFilter>> key_filters;
  std::vector<testing::ShardCheckTarget> check;
  for (int t = 0; t < 3; ++t) {
    auto filter = engine::MakeKeyFilter(filters[t]);
    ASSERT_TRUE(filter.ok());
    key_filters.push_back(std::move(*filter));
    check.push_back({names[t], key_filters.back().get(), &clients[t]});
  }
  absl::StatusOr<testing::ShardCheckReport> report = CheckShards(*source_client, check, kDbs);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  int with_expiry = 0;
  absl::StatusOr<int64_t> drift = MaxExpiryDrift(*source_client, check, &with_expiry);
  ASSERT_TRUE(drift.ok()) << drift.status();
  std::cout << flavor.name << ": " << with_expiry << " keys with an expiry, largest drift "
            << *drift << " ms\n";
  EXPECT_GT(with_expiry, 20);
  EXPECT_LE(*drift, 2000);

  status = job.Snapshot();
  EXPECT_EQ(status.state, JobState::kStreaming) << status.error;
  uint64_t materialized = 0;
  for (const auto& target : status.targets) materialized += target.keys_materialized;
  EXPECT_GT(materialized, 100u);
  job.Cancel();
  EXPECT_EQ(WaitForState(job, JobState::kCancelled, absl::Seconds(10)).state, JobState::kCancelled);
}

INSTANTIATE_TEST_SUITE_P(Servers, StreamWorkloadTest,
                         ::testing::Values(Flavor{"Redis7", "", "", true, true},
                                           Flavor{"Redis6", "redis-6.0/bin/redis-server",
                                                  "RESHARD_REDIS6_SERVER", false, false},
                                           Flavor{"Valkey8", "valkey-8.0/bin/valkey-server",
                                                  "RESHARD_VALKEY_SERVER", true, true},
                                           Flavor{"Redis8",
                                                  "redis-8.0/bin/redis-server",
                                                  "RESHARD_REDIS8_SERVER",
                                                  true,
                                                  true,
                                                  true,
                                                  {"--repl-rdb-channel", "yes"}},
                                           Flavor{"Valkey9",
                                                  "valkey-9.1/bin/valkey-server",
                                                  "RESHARD_VALKEY9_SERVER",
                                                  true,
                                                  true,
                                                  true,
                                                  {"--dual-channel-replication-enabled", "yes"}}),
                         [](const ::testing::TestParamInfo<Flavor>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace reshard
