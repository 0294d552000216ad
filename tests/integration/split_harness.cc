#include "tests/integration/split_harness.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/route/key_filter.h"
#include "tests/support/free_port.h"

namespace reshard::integration {

// Mixed data in dbs 0 and 1: every basic type, compact and large encodings,
// some keys with expiries. Key names start with a digit.
void FillNumericDataset(RedisClient& client, int n) {
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < n; ++i) {
    std::string k = absl::StrCat(i % 10, ":", i);
    if (i == n / 2) commands.push_back({"SELECT", "1"});
    switch (i % 6) {
      case 0:
        commands.push_back({"SET", k + ":s", absl::StrCat("v", i)});
        if (i % 4 == 0) commands.push_back({"PEXPIRE", k + ":s", "3600000"});
        break;
      case 1:
        commands.push_back({"RPUSH", k + ":l", "a", "b", std::to_string(i)});
        break;
      case 2:
        commands.push_back({"HSET", k + ":h", "f", "v", "g", std::to_string(i)});
        break;
      case 3:
        commands.push_back({"SADD", k + ":set", "x", "y", std::to_string(i)});
        break;
      case 4:
        commands.push_back({"ZADD", k + ":z", "1", "a", "2.5", std::to_string(i)});
        commands.push_back({"EXPIRE", k + ":z", "7200"});
        break;
      case 5:
        commands.push_back({"SET", k, std::to_string(i)});  // integer-encoded value
        break;
    }
  }
  // A few large encodings (hash table, skiplist, quicklist with many nodes).
  commands.push_back({"SELECT", "0"});
  for (int j = 0; j < 300; ++j) {
    std::string m = std::to_string(j);
    commands.push_back({"SADD", "3:bigset", m + "member"});
    commands.push_back({"HSET", "8:bighash", "field" + m, std::string(100, 'h')});
    commands.push_back({"ZADD", "4:bigzset", m, "member" + m});
    commands.push_back({"RPUSH", "9:biglist", std::string(200, 'l') + m});
  }
  commands.push_back({"SET", "6:big", std::string(3 << 20, 'b')});
  testing::RunWithoutErrors(client, commands);
}

// Writes numeric-key traffic (sets, deletes, expiries, MSET across both halves,
// transactions, two dbs) until `stop`.
void WriteTraffic(const RedisServer* source, std::atomic<bool>* stop, std::atomic<int>* rounds) {
  absl::StatusOr<RedisClient> client = source->Client();
  ASSERT_TRUE(client.ok()) << client.status();
  for (int r = 0; !stop->load(); ++r) {
    std::vector<std::vector<std::string>> commands;
    for (int j = 0; j < 50; ++j) {
      int i = (r * 131 + j * 7919) % 4000;
      std::string k = absl::StrCat(i % 10, ":", i);
      commands.push_back({"SELECT", std::to_string(j % 2)});
      commands.push_back({"SET", k + ":live", absl::StrCat("r", r)});
      commands.push_back({"INCR", absl::StrCat(i % 10, ":counter")});
      if (j % 5 == 0) commands.push_back({"DEL", k + ":s", absl::StrCat((i + 5) % 10, ":x")});
      if (j % 7 == 0) {
        commands.push_back(
            {"MSET", absl::StrCat(i % 10, ":m", j), "x", absl::StrCat((i + 5) % 10, ":m", j), "y"});
      }
      if (j % 9 == 0) commands.push_back({"SET", k + ":ttl", "t", "EX", "600"});
      if (j % 11 == 0) commands.push_back({"LPUSH", k + ":l", absl::StrCat("r", r)});
      if (j % 13 == 0) {
        commands.push_back({"MULTI"});
        commands.push_back({"HSET", k + ":h", "tx", std::to_string(r)});
        commands.push_back({"SADD", absl::StrCat((i + 5) % 10, ":txset"), std::to_string(r)});
        commands.push_back({"EXEC"});
      }
    }
    absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(commands);
    ASSERT_TRUE(replies.ok()) << replies.status();
    rounds->fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Sets a marker key per target on the source and waits until each target has
// it: everything written before is then applied on the targets.
void WaitForMarkers(RedisClient& source, std::vector<RedisClient*> targets,
                    const std::vector<std::string>& markers) {
  ASSERT_TRUE(source.CheckedCommand({"SELECT", "0"}).ok());
  for (const std::string& marker : markers) {
    ASSERT_TRUE(source.CheckedCommand({"SET", marker, "1"}).ok());
  }
  for (size_t t = 0; t < targets.size(); ++t) {
    RedisClient* target = targets[t];
    ASSERT_TRUE(target->CheckedCommand({"SELECT", "0"}).ok());
    absl::Status status =
        target->WaitForKey(markers[t], absl::Seconds(60), absl::StrCat("marker ", markers[t]));
    ASSERT_TRUE(status.ok()) << status;
  }
}

void HalvesTest::StartServers(int fill_keys) {
  source_ = StartServer(server_options_);
  target_a_ = StartServer(server_options_);
  target_b_ = StartServer(server_options_);
  ASSERT_TRUE(source_ && target_a_ && target_b_);
  source_client_.emplace(Connect(*source_));
  FillNumericDataset(*source_client_, fill_keys);
}

void HalvesTest::StartJob(const std::string& id) {
  spec_.source.address = source_->address();
  spec_.source.tls = source_tls_;
  spec_.targets.push_back(
      MakeTarget("a", {FilterKind::kRegex, "^[0-4]"}, testing::PickFreePort(), target_a_.get()));
  spec_.targets.push_back(
      MakeTarget("b", {FilterKind::kRegex, "^[5-9]"}, testing::PickFreePort(), target_b_.get()));
  for (engine::TargetSpec& target : spec_.targets) {
    target.listen_tls = listen_tls_;
    target.replica->tls = replica_tls_;
  }
  ASSERT_TRUE(engine::ValidateJobSpec(spec_).ok());
  job_ = std::make_unique<Job>(id, spec_);
  job_->Start();
}

void HalvesTest::DisruptWhileWriting(int times, const std::function<void(int)>& disrupt) {
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer(WriteTraffic, source_.get(), &stop, &rounds);
  for (int i = 0; i < times && !::testing::Test::HasFatalFailure(); ++i) {
    int before = rounds.load();
    EXPECT_TRUE(
        RedisClient::WaitFor([&] { return rounds.load() > before + 10; }, absl::Seconds(30)).ok());
    disrupt(i);
  }
  stop = true;
  writer.join();
}

void HalvesTest::ExpectExactHalves() {
  a_.emplace(Connect(*target_a_));
  b_.emplace(Connect(*target_b_));
  WaitForMarkers(*source_client_, {&*a_, &*b_}, {"0:marker", "5:marker"});
  auto filter_a = engine::MakeKeyFilter(spec_.targets[0].filter);
  auto filter_b = engine::MakeKeyFilter(spec_.targets[1].filter);
  ASSERT_TRUE(filter_a.ok() && filter_b.ok());
  absl::StatusOr<testing::ShardCheckReport> report = testing::CheckShards(
      *source_client_, {{"a", filter_a->get(), &*a_}, {"b", filter_b->get(), &*b_}},
      /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  report_ = *report;
}

}  // namespace reshard::integration
