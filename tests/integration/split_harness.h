#pragma once

// The numeric-key split of job_split_test and job_faults_test: a numeric
// dataset and write traffic, markers that prove a target has caught up, and
// HalvesTest — a source whose numeric keys a job splits in half (^[0-4] to
// target a, ^[5-9] to target b, both managed replicas). Servers, jobs and
// targets come from tests/support.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/job/job.h"
#include "tests/support/job_targets.h"
#include "tests/support/job_waiter.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {

// The vocabulary of the job tests built on this harness.
using engine::FilterKind;
using engine::Job;
using engine::JobSpec;
using engine::JobState;
using engine::JobStatus;
using testing::Connect;
using testing::MakeTarget;
using testing::RedisClient;
using testing::RedisServer;
using testing::StartServer;
using testing::WaitForState;

// n keys of every basic type in dbs 0 and 1 (compact and large encodings,
// some with expiries); names start with a digit.
void FillNumericDataset(RedisClient& client, int n);
// Numeric-key traffic (sets, deletes, expiries, MSET across both halves,
// transactions, two dbs) until *stop; counts batches in *rounds.
void WriteTraffic(const RedisServer* source, std::atomic<bool>* stop, std::atomic<int>* rounds);
// Sets markers[i] on the source and waits until targets[i] has it.
void WaitForMarkers(RedisClient& source, std::vector<RedisClient*> targets,
                    const std::vector<std::string>& markers);

class HalvesTest : public ::testing::Test {
 protected:
  // A source filled with FillNumericDataset(fill_keys) and two empty targets.
  void StartServers(int fill_keys);
  // Starts the job that splits the source in half (it is not waited for).
  void StartJob(const std::string& id);
  // Writes traffic to the source while `disrupt(i)` runs for i = 0..times-1,
  // each time after at least 10 more batches; stops the writer afterwards.
  void DisruptWhileWriting(int times, const std::function<void(int)>& disrupt);
  // Markers, then every key of dbs 0 and 1 checked on both targets; the
  // report is left in report_.
  void ExpectExactHalves();

  // The servers StartServers starts (default: redis-server on PATH).
  testing::RedisServerOptions server_options_;
  // What StartJob gives the source endpoint, each listener and each managed
  // target's endpoint (default: plain TCP).
  engine::TlsClientOptions source_tls_;
  engine::TlsServerOptions listen_tls_;
  engine::TlsClientOptions replica_tls_;
  std::unique_ptr<RedisServer> source_, target_a_, target_b_;
  std::optional<RedisClient> source_client_;
  std::optional<RedisClient> a_, b_;
  engine::JobSpec spec_;
  std::unique_ptr<engine::Job> job_;
  testing::ShardCheckReport report_;
};

}  // namespace reshard::integration
