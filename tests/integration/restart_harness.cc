#include "tests/integration/restart_harness.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/route/key_filter.h"
#include "google/protobuf/empty.pb.h"
#include "tests/integration/split_harness.h"
#include "tests/support/free_port.h"
#include "tests/support/shard_check.h"
#include "tests/support/test_servers.h"

extern char** environ;

namespace reshard::integration {
namespace {

const std::string kReshardd = std::string(RESHARD_BINARY_DIR) + "/server/reshardd";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

}  // namespace

CrossTargetWrites::CrossTargetWrites(uint16_t port) {
  thread_ = std::thread([this, port] {
    absl::StatusOr<testing::RedisClient> client = testing::RedisClient::Connect("127.0.0.1", port);
    ASSERT_TRUE(client.ok()) << client.status();
    for (int n = 0; !stop_.load(); ++n) {
      std::string from = absl::StrCat("2:mv:", n % 200), to = absl::StrCat("7:mv:", n % 200);
      absl::StatusOr<std::vector<engine::RespValue>> replies = client->Pipeline(
          {{"SET", from, absl::StrCat("v", n)}, {"RENAME", from, to}, {"APPEND", to, "+"}});
      ASSERT_TRUE(replies.ok()) << replies.status();
      for (const engine::RespValue& reply : *replies) ASSERT_FALSE(reply.IsError()) << reply.str;
      writes_.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

CrossTargetWrites::~CrossTargetWrites() { Stop(); }

void CrossTargetWrites::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

ReshardProcess::~ReshardProcess() {
  if (pid_ > 0) Kill();
}

pid_t ReshardProcess::Spawn(const std::vector<std::string>& extra_flags, const std::string& log) {
  std::vector<std::string> argv = {kReshardd, "--grpc_listen=127.0.0.1:0",
                                   "--metrics_listen=", "--state_dir=" + state_dir_};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

absl::Status ReshardProcess::Start(const std::vector<std::string>& extra_flags) {
  log_path_ = absl::StrCat(log_dir_, "/reshardd.", ++starts_, ".log");
  pid_ = Spawn(extra_flags, log_path_);
  if (pid_ <= 0) return absl::InternalError(absl::StrCat("cannot start ", kReshardd));
  // "reshardd: gRPC listening on 127.0.0.1:PORT"
  static const std::regex kListening("gRPC listening on (127\\.0\\.0\\.1:[0-9]+)");
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    std::smatch match;
    std::string log = ReadFile(log_path_);
    if (std::regex_search(log, match, kListening)) {
      auto channel = grpc::CreateChannel(match[1], grpc::InsecureChannelCredentials());
      stub_ = v1::JobService::NewStub(channel);
      return absl::OkStatus();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("reshardd exited at start:\n", log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("reshardd did not serve:\n", Log()));
}

std::pair<int, std::string> ReshardProcess::RunSecond() {
  const std::string log = absl::StrCat(log_dir_, "/reshardd.second.log");
  pid_t pid = Spawn({}, log);
  int status = 0;
  // It refuses at once; if it did not, stop it and say so.
  for (int i = 0; i < 500 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return {-1, ReadFile(log)};
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ReadFile(log)};
}

void ReshardProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  stub_.reset();
}

int ReshardProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  stub_.reset();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ReshardProcess::Log() const { return ReadFile(log_path_); }

absl::StatusOr<v1::Job> ReshardProcess::Create(const v1::JobSpec& spec, const std::string& id) {
  v1::CreateJobRequest request;
  *request.mutable_spec() = spec;
  request.set_job_id(id);
  v1::Job job;
  absl::Status status = FromGrpc(stub_->CreateJob(Context().get(), request, &job));
  if (!status.ok()) return status;
  return job;
}

absl::StatusOr<v1::Job> ReshardProcess::Get(const std::string& id) {
  v1::GetJobRequest request;
  request.set_id(id);
  v1::Job job;
  absl::Status status = FromGrpc(stub_->GetJob(Context().get(), request, &job));
  if (!status.ok()) return status;
  return job;
}

absl::StatusOr<std::vector<v1::Job>> ReshardProcess::List() {
  v1::ListJobsResponse response;
  absl::Status status =
      FromGrpc(stub_->ListJobs(Context().get(), v1::ListJobsRequest(), &response));
  if (!status.ok()) return status;
  return std::vector<v1::Job>(response.jobs().begin(), response.jobs().end());
}

absl::Status ReshardProcess::Pause(const std::string& id) {
  v1::PauseJobRequest request;
  request.set_id(id);
  v1::Job job;
  return FromGrpc(stub_->PauseJob(Context().get(), request, &job));
}

absl::Status ReshardProcess::Resume(const std::string& id) {
  v1::ResumeJobRequest request;
  request.set_id(id);
  v1::Job job;
  return FromGrpc(stub_->ResumeJob(Context().get(), request, &job));
}

absl::Status ReshardProcess::Verify(const std::string& id) {
  v1::VerifyJobRequest request;
  request.set_id(id);
  request.set_sample_fraction(1);
  request.set_rate_keys_per_second(-1);
  v1::Job job;
  return FromGrpc(stub_->VerifyJob(Context().get(), request, &job));
}

std::string Describe(const v1::Job& job) {
  const v1::JobStatus& s = job.status();
  std::string out = absl::StrCat("job ", v1::JobStatus::State_Name(s.state()), " (", s.detail(),
                                 ") error ", s.error().message(), "; restore: ", s.restore_detail(),
                                 "; source_offset ", s.source_offset());
  if (!s.durable_state_error().empty()) absl::StrAppend(&out, "; ", s.durable_state_error());
  for (const v1::TargetStatus& t : s.targets()) {
    absl::StrAppend(&out, "; ", t.name(), " ", v1::TargetStatus::State_Name(t.state()), " (",
                    t.state_reason(), ") offset ", t.offset(), " acked ", t.acked_offset(),
                    " source_acked ", t.source_acked_offset(), " resyncs ", t.resyncs());
  }
  return out;
}

bool AllStreaming(const v1::Job& job) {
  return job.status().state() == v1::JobStatus::STREAMING &&
         std::all_of(
             job.status().targets().begin(), job.status().targets().end(),
             [](const v1::TargetStatus& t) { return t.state() == v1::TargetStatus::STREAMING; });
}

const char* const RestartTest::kNames[kTargets] = {"left", "right"};
const char* const RestartTest::kMarkers[kTargets] = {"0:marker", "9:marker"};

void RestartTest::TearDown() {
  reshardd_.reset();  // SIGKILL, before the servers go
}

void RestartTest::StartServers(int fill_keys, std::vector<std::string> source_args) {
  testing::RedisServerOptions source_options;
  source_options.extra_args = {"--repl-backlog-size", "64mb"};
  source_options.extra_args.insert(source_options.extra_args.end(), source_args.begin(),
                                   source_args.end());
  source_ = testing::StartServer(source_options);
  ASSERT_TRUE(source_);
  for (size_t t = 0; t < kTargets; ++t) {
    targets_.push_back(testing::StartServer());
    ASSERT_TRUE(targets_.back());
  }
  source_client_.emplace(testing::Connect(*source_));
  ASSERT_NO_FATAL_FAILURE(FillNumericDataset(*source_client_, fill_keys));
  reshardd_ = std::make_unique<ReshardProcess>(dir_ / "state", dir_.path());
  absl::Status started = reshardd_->Start();
  ASSERT_TRUE(started.ok()) << started;
}

void RestartTest::CreateJob(const std::function<void(v1::Endpoint*)>& source) {
  spec_.mutable_source()->set_address(source_->address());
  if (source) source(spec_.mutable_source());
  for (size_t t = 0; t < kTargets; ++t) AddManagedTarget(t);
  absl::StatusOr<v1::Job> job = reshardd_->Create(spec_, kJob);
  ASSERT_TRUE(job.ok()) << job.status();
}

void RestartTest::AddManagedTarget(size_t t) {
  const char* const regex[kTargets] = {"^[0-4]", "^[5-9]"};
  listen_ports_.push_back(testing::PickFreePort());
  v1::TargetSpec* target = spec_.add_targets();
  target->set_name(kNames[t]);
  target->mutable_filter()->set_regex(regex[t]);
  target->set_listen(absl::StrCat("127.0.0.1:", listen_ports_.back()));
  target->mutable_replica()->set_address(targets_[t]->address());
  // The test's own (not a generated one): a restarted target needs it again.
  target->set_password(kListenerPassword);
}

v1::Job RestartTest::WaitJob(const std::function<bool(const v1::Job&)>& done,
                             absl::Duration timeout, const std::string& what) {
  absl::Time deadline = absl::Now() + timeout;
  v1::Job job;
  std::string last_error;
  while (true) {
    absl::StatusOr<v1::Job> got = reshardd_->Get(kJob);
    if (got.ok()) {
      job = *std::move(got);
      if (job.status().targets_size() == static_cast<int>(kTargets) && done(job)) return job;
    } else {
      last_error = got.status().ToString();
    }
    if (absl::Now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "waited " << timeout << " for " << what << "; " << Describe(job) << " "
                << last_error;
  return job;
}

v1::Job RestartTest::WaitAllStreaming(absl::Duration timeout) {
  return WaitJob(AllStreaming, timeout, "the job and every target to stream");
}

void RestartTest::WaitCaughtUp() {
  absl::StatusOr<uint64_t> end = MasterReplOffset(*source_client_);
  ASSERT_TRUE(end.ok()) << end.status();
  WaitJob([&](const v1::Job& job) { return job.status().source_offset() >= *end; },
          absl::Seconds(30), absl::StrCat("the job to read the source up to offset ", *end));
}

std::string RestartTest::SourceStat(const std::string& field) {
  absl::StatusOr<std::string> value = source_client_->InfoField("stats", field);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : "";
}

int RestartTest::PartialResyncs(size_t t) const {
  return Count(ReadFile(targets_[t]->log_path()), "Successful partial resynchronization");
}

int RestartTest::FullResyncs(size_t t) const {
  return Count(ReadFile(targets_[t]->log_path()), "Full resync from master");
}

void RestartTest::ExpectExactAfterCatchUp(Workload* workload, std::vector<size_t> which) {
  workload->Stop();
  std::vector<testing::RedisClient> clients;
  for (size_t t = 0; t < kTargets; ++t) clients.push_back(testing::Connect(*targets_[t]));
  ASSERT_TRUE(source_client_->CheckedCommand({"SELECT", "0"}).ok());
  for (size_t t : which) {
    ASSERT_TRUE(source_client_->CheckedCommand({"SET", kMarkers[t], "1"}).ok());
  }
  for (size_t t : which) {
    absl::Status arrived = clients[t].WaitForKey(kMarkers[t], absl::Seconds(60), kMarkers[t]);
    ASSERT_TRUE(arrived.ok()) << arrived << "; " << Describe(*reshardd_->Get(kJob));
  }
  std::vector<std::unique_ptr<engine::KeyFilter>> filters;
  std::vector<testing::ShardCheckTarget> check;
  for (size_t t : which) {
    absl::StatusOr<std::unique_ptr<engine::KeyFilter>> filter =
        engine::MakeKeyFilter({engine::FilterKind::kRegex, spec_.targets(t).filter().regex()});
    ASSERT_TRUE(filter.ok()) << filter.status();
    filters.push_back(std::move(*filter));
    check.push_back({kNames[t], filters.back().get(), &clients[t]});
  }
  absl::StatusOr<testing::ShardCheckReport> report =
      testing::CheckShards(*source_client_, check, /*db_count=*/2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->Summary();
  for (size_t i = 0; i < which.size(); ++i) {
    EXPECT_GT(report->keys_per_target[i], 500u) << kNames[which[i]];
  }
}

}  // namespace reshard::integration
