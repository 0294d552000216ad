#include "tests/integration/target_fault_harness.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/route/key_filter.h"
#include "tests/integration/split_harness.h"
#include "tests/support/free_port.h"
#include "tests/support/job_targets.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

namespace reshard::integration {

using engine::JobState;
using engine::JobStatus;
using engine::TargetState;
using testing::RedisClient;

namespace {

constexpr int kWorkloadKeys = 3000;

std::string Name(JobState state) { return std::string(engine::JobStateName(state)); }
std::string Name(TargetState state) { return std::string(engine::TargetStateName(state)); }

}  // namespace

Workload::Workload(uint16_t port, size_t value_bytes, int keys, int dbs)
    : value_bytes_(value_bytes), keys_(keys), dbs_(dbs) {
  thread_ = std::thread([this, port] { Run(port); });
}

Workload::~Workload() { Stop(); }

void Workload::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Workload::WaitRounds(int n) {
  int target = rounds() + n;
  absl::Status waited = RedisClient::WaitFor([&] { return rounds() >= target || stop_.load(); },
                                             absl::Seconds(30), "workload batches");
  EXPECT_TRUE(waited.ok()) << waited << " (" << rounds() << " of " << target << ")";
}

void Workload::Run(uint16_t port) {
  absl::StatusOr<RedisClient> client = RedisClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int r = 0; !stop_.load(); ++r) {
    std::string value = absl::StrCat("r", r, ":");
    value.resize(std::max(value.size(), value_bytes_), static_cast<char>('a' + r % 26));
    std::vector<std::vector<std::string>> commands;
    for (int j = 0; j < 40; ++j) {
      int i = (r * 131 + j * 7919) % keys_;
      std::string k = absl::StrCat(i % 10, ":w", i);
      commands.push_back({"SELECT", std::to_string(j % dbs_)});
      commands.push_back({"SET", k + ":s", value});
      commands.push_back({"INCR", absl::StrCat(i % 10, ":c", i % 50)});
      if (j % 3 == 0) commands.push_back({"HSET", k + ":h", absl::StrCat("f", r % 7), value});
      if (j % 4 == 0) {
        commands.push_back({"LPUSH", k + ":l", std::to_string(r)});
        commands.push_back({"LTRIM", k + ":l", "0", "9"});
      }
      if (j % 5 == 0) commands.push_back({"EXPIRE", k + ":s", std::to_string(600 + r % 100)});
      if (j % 6 == 0) commands.push_back({"SET", k + ":t", std::to_string(r), "EX", "900"});
      if (j % 7 == 0) commands.push_back({"DEL", k + ":h"});
      if (j % 11 == 0) commands.push_back({"PEXPIRE", k + ":l", "300000"});
    }
    absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(commands);
    ASSERT_TRUE(replies.ok()) << replies.status();
    for (const engine::RespValue& reply : *replies) {
      ASSERT_FALSE(reply.IsError()) << "workload: " << reply.str;
    }
    rounds_.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

StateRecorder::StateRecorder(const engine::Job* job) : job_(job) {
  thread_ = std::thread([this] {
    JobStatus status = job_->Snapshot();
    Record(status);
    while (!stop_.load()) {
      status = job_->WaitForChange(status.version, absl::Milliseconds(100));
      Record(status);
    }
  });
}

StateRecorder::~StateRecorder() {
  stop_ = true;
  thread_.join();
}

void StateRecorder::Record(const JobStatus& status) {
  absl::MutexLock lock(&mu_);
  if (job_states_.empty() || job_states_.back() != status.state) {
    job_states_.push_back(status.state);
  }
  std::vector<std::string>& details = details_[status.state];
  if (details.size() < 100 &&
      std::find(details.begin(), details.end(), status.detail) == details.end()) {
    details.push_back(status.detail);
  }
  target_states_.resize(std::max(target_states_.size(), status.targets.size()));
  max_spool_.resize(target_states_.size());
  max_spool_disk_.resize(target_states_.size());
  for (size_t t = 0; t < status.targets.size(); ++t) {
    const engine::TargetStatus& target = status.targets[t];
    std::vector<TargetState>& states = target_states_[t];
    if (states.empty() || states.back() != target.state) states.push_back(target.state);
    max_spool_[t] = std::max(max_spool_[t], target.spool_bytes);
    max_spool_disk_[t] = std::max(max_spool_disk_[t], target.spool_disk_bytes);
  }
}

std::vector<TargetState> StateRecorder::TargetStates(size_t target) const {
  absl::MutexLock lock(&mu_);
  return target < target_states_.size() ? target_states_[target] : std::vector<TargetState>();
}

bool StateRecorder::SawTarget(size_t target, TargetState state) const {
  std::vector<TargetState> states = TargetStates(target);
  return std::find(states.begin(), states.end(), state) != states.end();
}

std::string StateRecorder::TargetHistory(size_t target) const {
  std::vector<std::string> names;
  for (TargetState state : TargetStates(target)) names.push_back(Name(state));
  return absl::StrJoin(names, " ");
}

bool StateRecorder::SawJob(JobState state, const std::string& text) const {
  absl::MutexLock lock(&mu_);
  auto it = details_.find(state);
  if (it == details_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& detail) { return detail.find(text) != detail.npos; });
}

std::string StateRecorder::JobHistory() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (JobState state : job_states_) out.push_back(Name(state));
  for (const auto& [state, details] : details_) {
    out.push_back(absl::StrCat(Name(state), " details: [", absl::StrJoin(details, "; "), "]"));
  }
  return absl::StrJoin(out, ", ");
}

uint64_t StateRecorder::max_spool_bytes(size_t target) const {
  absl::MutexLock lock(&mu_);
  return target < max_spool_.size() ? max_spool_[target] : 0;
}

uint64_t StateRecorder::max_spool_disk_bytes(size_t target) const {
  absl::MutexLock lock(&mu_);
  return target < max_spool_disk_.size() ? max_spool_disk_[target] : 0;
}

absl::StatusOr<uint64_t> ReplicaOutputMemory(RedisClient& source) {
  absl::StatusOr<engine::RespValue> list =
      source.CheckedCommand({"CLIENT", "LIST", "TYPE", "replica"});
  if (!list.ok()) return list.status();
  std::optional<uint64_t> max;
  for (absl::string_view line : absl::StrSplit(list->str, '\n', absl::SkipWhitespace())) {
    for (absl::string_view field : absl::StrSplit(line, ' ')) {
      uint64_t omem = 0;
      if (absl::ConsumePrefix(&field, "omem=") && absl::SimpleAtoi(field, &omem)) {
        max = std::max(max.value_or(0), omem);
      }
    }
  }
  if (!max.has_value()) return absl::NotFoundError("source: no replica connection");
  return *max;
}

absl::StatusOr<uint64_t> MasterReplOffset(RedisClient& source) {
  absl::StatusOr<std::string> field = source.InfoField("replication", "master_repl_offset");
  if (!field.ok()) return field.status();
  uint64_t offset = 0;
  if (!absl::SimpleAtoi(*field, &offset)) {
    return absl::InternalError(absl::StrCat("master_repl_offset: '", *field, "'"));
  }
  return offset;
}

std::string Describe(const JobStatus& status) {
  std::string out =
      absl::StrCat("job ", Name(status.state), " (", status.detail, ") ", status.error.ToString(),
                   " source_offset ", status.source_offset, " upstream_acked ",
                   status.upstream_acked_offset, " reconnects ", status.upstream_reconnects);
  for (const engine::TargetStatus& t : status.targets) {
    absl::StrAppend(&out, "; ", t.name, " ", Name(t.state), " (", t.state_reason, ") offset ",
                    t.offset, " acked ", t.acked_offset, " source_acked ", t.source_acked_offset,
                    " spool ", t.spool_bytes, "/", t.spool_disk_bytes, " resyncs ", t.resyncs,
                    " replicas ", t.connected_replicas);
  }
  return out;
}

const char* const TargetFaultsTest::kNames[kTargets] = {"left", "middle", "right"};
const char* const TargetFaultsTest::kMarkers[kTargets] = {"0:marker", "4:marker", "7:marker"};

void TargetFaultsTest::TearDown() {
  for (size_t t = 0; t < targets_.size(); ++t) {
    if (stopped_[t] && targets_[t] && targets_[t]->running()) ::kill(targets_[t]->pid(), SIGCONT);
  }
}

void TargetFaultsTest::StartServers(int fill_keys) {
  testing::RedisServerOptions source_options;
  source_options.extra_args = {"--repl-backlog-size", "64mb"};
  source_ = testing::StartServer(source_options);
  ASSERT_TRUE(source_);
  for (size_t t = 0; t < kTargets; ++t) {
    targets_.push_back(testing::StartServer());
    ASSERT_TRUE(targets_.back());
  }
  source_client_.emplace(testing::Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(FillNumericDataset(*source_client_, fill_keys));
}

void TargetFaultsTest::StartJob(const std::string& id, bool managed) {
  const char* const regex[kTargets] = {"^[0-3]", "^[4-6]", "^[7-9]"};
  spec_.source.address = spec_.source.address.empty() ? source_->address() : spec_.source.address;
  for (size_t t = 0; t < kTargets; ++t) {
    listen_ports_.push_back(testing::PickFreePort());
    spec_.targets.push_back(testing::MakeTarget(kNames[t], {engine::FilterKind::kRegex, regex[t]},
                                                listen_ports_[t],
                                                managed ? targets_[t].get() : nullptr));
    // A password of the test's own rather than a generated one: a target
    // restarted empty has lost its masterauth, and AttachTarget sets it again.
    if (managed) spec_.targets.back().credentials.password = kListenerPassword;
  }
  absl::Status valid = engine::ValidateJobSpec(spec_);
  ASSERT_TRUE(valid.ok()) << valid;
  job_ = std::make_unique<engine::Job>(id, spec_);
  job_->Start();
}

JobStatus TargetFaultsTest::WaitStatus(const std::function<bool(const JobStatus&)>& done,
                                       absl::Duration timeout, const std::string& what) {
  // `done` may index every target.
  auto ready = [&](const JobStatus& status) {
    return status.targets.size() == kTargets && done(status);
  };
  absl::Time deadline = absl::Now() + timeout;
  JobStatus status = job_->Snapshot();
  while (!ready(status) && absl::Now() < deadline && !engine::IsTerminal(status.state)) {
    status = job_->WaitForChange(status.version, absl::Milliseconds(100));
  }
  EXPECT_TRUE(ready(status)) << "waited " << timeout << " for " << what << "; " << Describe(status);
  return status;
}

JobStatus TargetFaultsTest::WaitAllStreaming(absl::Duration timeout) {
  return WaitStatus(
      [](const JobStatus& status) {
        return status.state == JobState::kStreaming &&
               std::all_of(status.targets.begin(), status.targets.end(),
                           [](const engine::TargetStatus& target) {
                             return target.state == TargetState::kStreaming;
                           });
      },
      timeout, "the job and every target to stream");
}

void TargetFaultsTest::AttachTarget(size_t t) {
  RedisClient client = testing::Connect(*targets_[t]);
  if (const std::string& password = spec_.targets[t].credentials.password; !password.empty()) {
    ASSERT_TRUE(client.CheckedCommand({"CONFIG", "SET", "masterauth", password}).ok());
  }
  absl::StatusOr<engine::RespValue> reply =
      client.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(listen_ports_[t])});
  ASSERT_TRUE(reply.ok()) << kNames[t] << ": " << reply.status();
}

void TargetFaultsTest::RestartEmpty(size_t t) {
  ASSERT_TRUE(targets_[t]->Kill().ok());
  stopped_[t] = false;
  // What it saved of its last snapshot would be loaded again: it must come
  // back empty, as a replaced machine would.
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(targets_[t]->dir(), ignored)) {
    if (entry.path().extension() == ".rdb") std::filesystem::remove(entry.path(), ignored);
  }
  absl::Status restarted = targets_[t]->Restart();
  ASSERT_TRUE(restarted.ok()) << kNames[t] << ": " << restarted;
  ASSERT_NO_FATAL_FAILURE(AttachTarget(t));
}

void TargetFaultsTest::StopTarget(size_t t) {
  ASSERT_EQ(::kill(targets_[t]->pid(), SIGSTOP), 0);
  stopped_[t] = true;
}

void TargetFaultsTest::ContinueTarget(size_t t) {
  ASSERT_EQ(::kill(targets_[t]->pid(), SIGCONT), 0);
  stopped_[t] = false;
}

std::string TargetFaultsTest::SourceStat(const std::string& field) {
  absl::StatusOr<std::string> value = source_client_->InfoField("stats", field);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : "";
}

void TargetFaultsTest::ExpectExactAfterCatchUp(Workload* workload) {
  workload->Stop();
  std::vector<RedisClient> clients;
  for (size_t t = 0; t < kTargets; ++t) clients.push_back(testing::Connect(*targets_[t]));
  ASSERT_TRUE(source_client_->CheckedCommand({"SELECT", "0"}).ok());
  for (size_t t = 0; t < kTargets; ++t) {
    ASSERT_TRUE(source_client_->CheckedCommand({"SET", kMarkers[t], "1"}).ok());
  }
  for (size_t t = 0; t < kTargets; ++t) {
    absl::Status arrived = clients[t].WaitForKey(kMarkers[t], absl::Seconds(120), kMarkers[t]);
    ASSERT_TRUE(arrived.ok()) << arrived << "; " << Describe(job_->Snapshot());
  }
  // Everything the source has: read, sent, applied and acknowledged by every
  // target, and (APPLIED) acknowledged upstream.
  absl::StatusOr<uint64_t> end = MasterReplOffset(*source_client_);
  ASSERT_TRUE(end.ok()) << end.status();
  WaitStatus(
      [&](const JobStatus& status) {
        if (status.state != JobState::kStreaming || status.source_offset < *end ||
            status.upstream_acked_offset < *end) {
          return false;
        }
        return std::all_of(status.targets.begin(), status.targets.end(),
                           [&](const engine::TargetStatus& target) {
                             return target.state == TargetState::kStreaming &&
                                    target.acked_offset == target.offset &&
                                    target.source_acked_offset >= *end && target.spool_bytes == 0;
                           });
      },
      absl::Seconds(60), absl::StrCat("every target to acknowledge source offset ", *end));
  if (HasFailure()) return;

  std::vector<std::unique_ptr<engine::KeyFilter>> filters;
  std::vector<testing::ShardCheckTarget> check;
  for (size_t t = 0; t < kTargets; ++t) {
    absl::StatusOr<std::unique_ptr<engine::KeyFilter>> filter =
        engine::MakeKeyFilter(spec_.targets[t].filter);
    ASSERT_TRUE(filter.ok()) << filter.status();
    filters.push_back(std::move(*filter));
    check.push_back({kNames[t], filters.back().get(), &clients[t]});
  }
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckShards(*source_client_, check, /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  EXPECT_GT(report->source_keys, static_cast<size_t>(kWorkloadKeys));
  for (size_t t = 0; t < kTargets; ++t) EXPECT_GT(report->keys_per_target[t], 1000u) << kNames[t];
}

// Where a resyncing target stands on its way back; SPOOLING (draining what
// waited while it loaded) ranks with STREAMING.
namespace {

int ResyncRank(TargetState state) {
  switch (state) {
    case TargetState::kWaiting:
    case TargetState::kDisconnected:
    case TargetState::kCutOff:
      return 0;
    case TargetState::kResyncing:
      return 1;
    case TargetState::kSnapshot:
      return 2;
    case TargetState::kLoading:
      return 3;
    default:
      return 4;
  }
}

}  // namespace

// From the state where it lost its stream on (DISCONNECTED, CUT_OFF, ...),
// `states` never goes back (then RESYNCING, SNAPSHOT, LOADING, STREAMING)
// and ends streaming. (A short snapshot may pass between two published
// statuses, so SNAPSHOT need not be seen; each case checks the resync count.)
void ExpectResyncPath(const std::vector<TargetState>& states, const std::string& history) {
  size_t first = 0;
  while (first < states.size() && ResyncRank(states[first]) == 4) ++first;
  ASSERT_LT(first, states.size()) << "never lost its stream: " << history;
  for (size_t i = first; i < states.size(); ++i) {
    if (i > first) {
      EXPECT_LE(ResyncRank(states[i - 1]), ResyncRank(states[i])) << history;
    }
  }
  EXPECT_EQ(states.back(), TargetState::kStreaming) << history;
}

uint64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace reshard::integration
