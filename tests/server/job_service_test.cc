// JobService over real gRPC: an in-process Daemon on free ports, a real
// client stub, real engine jobs against sources that refuse or never answer.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/cli/job_spec_json.h"
#include "client/output/json_writer.h"
#include "reshard/v1/job_service.grpc.pb.h"
#include "server/daemon.h"
#include "tests/support/free_port.h"
#include "tests/support/silent_listener.h"

namespace reshard::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Address(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

using testing::SilentListener;

// GET http://127.0.0.1:<port><path>; returns the body ("" on failure).
std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  ::send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) response.append(buffer, n);
  ::close(fd);
  size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

v1::JobSpec SpecFor(const std::string& source, const std::string& extra_source_fields = "") {
  uint16_t listen_a = testing::PickFreePort();
  uint16_t listen_b = testing::PickFreePort();
  std::string json = R"({"source":{"address":")" + source + "\"" + extra_source_fields +
                     R"(},"targets":[{"name":"a","filter":{"regex":"^[0-4]"},"listen":")" +
                     Address(listen_a) +
                     R"("},{"name":"b","filter":{"prefix":"user:"},"listen":")" +
                     Address(listen_b) + R"("}],"options":{"connect_attempts":1}})";
  absl::StatusOr<v1::JobSpec> spec = client::ParseJobSpecJson(json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

class JobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon(""); }
  void TearDown() override { daemon_.reset(); }

  void StartDaemon(const std::string& state_dir) {
    DaemonOptions options;
    options.grpc_listen = "127.0.0.1:0";
    options.metrics_listen = "127.0.0.1:0";
    options.state_dir = state_dir;
    absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    ASSERT_NE(daemon_->grpc_port(), 0);
    ASSERT_NE(daemon_->metrics_port(), 0);
    stub_ = v1::JobService::NewStub(
        grpc::CreateChannel(Address(daemon_->grpc_port()), grpc::InsecureChannelCredentials()));
  }

  static void Deadline(grpc::ClientContext* context, int seconds = 10) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  }

  grpc::Status Create(const v1::JobSpec& spec, const std::string& id, v1::Job* job) {
    v1::CreateJobRequest request;
    *request.mutable_spec() = spec;
    request.set_job_id(id);
    grpc::ClientContext context;
    Deadline(&context);
    return stub_->CreateJob(&context, request, job);
  }

  grpc::Status Get(const std::string& id, v1::Job* job) {
    v1::GetJobRequest request;
    request.set_id(id);
    grpc::ClientContext context;
    Deadline(&context);
    return stub_->GetJob(&context, request, job);
  }

  v1::ListJobsResponse List() {
    v1::ListJobsResponse response;
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status status = stub_->ListJobs(&context, v1::ListJobsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Every message of WatchJob until the stream ends or `stop` says so.
  std::vector<v1::Job> Watch(const std::string& id, grpc::Status* end,
                             std::function<bool(const v1::Job&)> stop = nullptr, int seconds = 20) {
    v1::WatchJobRequest request;
    request.set_id(id);
    grpc::ClientContext context;
    Deadline(&context, seconds);
    auto reader = stub_->WatchJob(&context, request);
    std::vector<v1::Job> jobs;
    v1::Job job;
    while (reader->Read(&job)) {
      jobs.push_back(job);
      if (stop && stop(job)) {
        context.TryCancel();
        break;
      }
    }
    *end = reader->Finish();
    return jobs;
  }

  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

void ExpectStatus(const grpc::Status& status, grpc::StatusCode code, const std::string& message) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_EQ(status.error_message(), message);
}

TEST_F(JobServiceTest, CreateJobRejectsBadSpecsNamingTheField) {
  v1::Job job;
  {
    v1::CreateJobRequest request;  // no spec at all
    grpc::ClientContext context;
    Deadline(&context);
    ExpectStatus(stub_->CreateJob(&context, request, &job), grpc::StatusCode::INVALID_ARGUMENT,
                 "spec: required");
  }
  v1::JobSpec spec = SpecFor("127.0.0.1:6390");
  spec.clear_targets();
  ExpectStatus(Create(spec, "", &job), grpc::StatusCode::INVALID_ARGUMENT,
               "targets: at least one target is required");

  spec = SpecFor("127.0.0.1:6390");
  spec.mutable_targets(1)->mutable_filter()->set_regex("(unclosed");
  ExpectStatus(Create(spec, "", &job), grpc::StatusCode::INVALID_ARGUMENT,
               "targets[1].filter.regex: invalid regex '(unclosed': missing )");

  spec = SpecFor("127.0.0.1:6390");
  spec.mutable_targets(0)->clear_filter();
  ExpectStatus(Create(spec, "", &job), grpc::StatusCode::INVALID_ARGUMENT,
               "targets[0].filter: required: set one of regex, prefix, glob, slots");

  spec = SpecFor("127.0.0.1:6390");
  spec.mutable_targets(1)->set_listen(spec.targets(0).listen());
  ExpectStatus(Create(spec, "", &job), grpc::StatusCode::INVALID_ARGUMENT,
               "targets[1].listen: duplicate listen address '" + spec.targets(0).listen() + "'");

  ExpectStatus(Create(SpecFor("127.0.0.1:6390"), "Bad_Id", &job),
               grpc::StatusCode::INVALID_ARGUMENT,
               "job_id: 'Bad_Id' must start with a lowercase letter");
  EXPECT_EQ(List().jobs_size(), 0);
}

TEST_F(JobServiceTest, UnreachableSourceFailsTheJobAndTheServiceGoesOn) {
  const uint16_t port = testing::PickFreePort();  // nothing listens there
  v1::Job created;
  ASSERT_TRUE(Create(SpecFor(Address(port)), "unreachable", &created).ok());
  EXPECT_EQ(created.id(), "unreachable");

  grpc::Status end;
  std::vector<v1::Job> seen = Watch("unreachable", &end);
  EXPECT_TRUE(end.ok()) << end.error_message();
  ASSERT_FALSE(seen.empty());
  const v1::Job& last = seen.back();
  EXPECT_EQ(last.status().state(), v1::JobStatus::FAILED);
  EXPECT_THAT(last.status().error().message(), HasSubstr(Address(port)));
  EXPECT_FALSE(last.status().error().code().empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GT(seen[i].status().version(), seen[i - 1].status().version());
  }

  v1::ListJobsResponse list = List();
  ASSERT_EQ(list.jobs_size(), 1);
  EXPECT_EQ(list.jobs(0).id(), "unreachable");
  EXPECT_EQ(list.jobs(0).status().state(), v1::JobStatus::FAILED);

  // A terminal job can neither be paused nor cancelled, but can be deleted.
  v1::Job job;
  {
    v1::CancelJobRequest request;
    request.set_id("unreachable");
    grpc::ClientContext context;
    Deadline(&context);
    ExpectStatus(stub_->CancelJob(&context, request, &job), grpc::StatusCode::FAILED_PRECONDITION,
                 "job unreachable is FAILED; it has already ended");
  }
  {
    v1::PauseJobRequest request;
    request.set_id("unreachable");
    grpc::ClientContext context;
    Deadline(&context);
    ExpectStatus(stub_->PauseJob(&context, request, &job), grpc::StatusCode::FAILED_PRECONDITION,
                 "job unreachable is FAILED; only a STREAMING job can be paused");
  }
  {
    v1::DeleteJobRequest request;
    request.set_id("unreachable");
    grpc::ClientContext context;
    Deadline(&context);
    google::protobuf::Empty empty;
    EXPECT_TRUE(stub_->DeleteJob(&context, request, &empty).ok());
  }
  EXPECT_EQ(List().jobs_size(), 0);
}

TEST_F(JobServiceTest, UnknownIdIsNotFound) {
  v1::Job job;
  ExpectStatus(Get("nope", &job), grpc::StatusCode::NOT_FOUND, "job nope not found");
  grpc::Status end;
  EXPECT_TRUE(Watch("nope", &end).empty());
  ExpectStatus(end, grpc::StatusCode::NOT_FOUND, "job nope not found");
  {
    v1::PauseJobRequest request;
    request.set_id("nope");
    grpc::ClientContext context;
    Deadline(&context);
    ExpectStatus(stub_->PauseJob(&context, request, &job), grpc::StatusCode::NOT_FOUND,
                 "job nope not found");
  }
  {
    v1::ResumeJobRequest request;
    request.set_id("nope");
    grpc::ClientContext context;
    Deadline(&context);
    ExpectStatus(stub_->ResumeJob(&context, request, &job), grpc::StatusCode::NOT_FOUND,
                 "job nope not found");
  }
  {
    v1::CancelJobRequest request;
    request.set_id("nope");
    grpc::ClientContext context;
    Deadline(&context);
    ExpectStatus(stub_->CancelJob(&context, request, &job), grpc::StatusCode::NOT_FOUND,
                 "job nope not found");
  }
  {
    v1::DeleteJobRequest request;
    request.set_id("nope");
    grpc::ClientContext context;
    Deadline(&context);
    google::protobuf::Empty empty;
    ExpectStatus(stub_->DeleteJob(&context, request, &empty), grpc::StatusCode::NOT_FOUND,
                 "job nope not found");
  }
}

TEST_F(JobServiceTest, DuplicateIdAlreadyExistsAndGeneratedIdsHaveTheirForm) {
  SilentListener source;
  v1::Job job;
  ASSERT_TRUE(Create(SpecFor(Address(source.port())), "dup", &job).ok());
  ExpectStatus(Create(SpecFor(Address(source.port())), "dup", &job),
               grpc::StatusCode::ALREADY_EXISTS, "job dup already exists");
  ASSERT_TRUE(Create(SpecFor(Address(source.port())), "", &job).ok());
  EXPECT_THAT(job.id(), ::testing::MatchesRegex("job-[0-9a-f]{8}"));
  EXPECT_EQ(List().jobs_size(), 2);
}

TEST_F(JobServiceTest, CancelThenDelete) {
  SilentListener source;
  v1::Job job;
  ASSERT_TRUE(Create(SpecFor(Address(source.port())), "stuck", &job).ok());
  {
    v1::CancelJobRequest request;
    request.set_id("stuck");
    grpc::ClientContext context;
    Deadline(&context);
    grpc::Status status = stub_->CancelJob(&context, request, &job);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  grpc::Status end;
  std::vector<v1::Job> seen = Watch("stuck", &end);
  EXPECT_TRUE(end.ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().status().state(), v1::JobStatus::CANCELLED);
  ASSERT_TRUE(Get("stuck", &job).ok());
  EXPECT_EQ(job.status().state(), v1::JobStatus::CANCELLED);

  // Delete of a job that still runs cancels it first.
  ASSERT_TRUE(Create(SpecFor(Address(source.port())), "running", &job).ok());
  for (const char* id : {"stuck", "running"}) {
    v1::DeleteJobRequest request;
    request.set_id(id);
    grpc::ClientContext context;
    Deadline(&context);
    google::protobuf::Empty empty;
    grpc::Status status = stub_->DeleteJob(&context, request, &empty);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    ExpectStatus(Get(id, &job), grpc::StatusCode::NOT_FOUND,
                 std::string("job ") + id + " not found");
  }
  EXPECT_EQ(List().jobs_size(), 0);
}

TEST_F(JobServiceTest, WatchEndsWhenTheJobIsDeleted) {
  SilentListener source;
  v1::Job job;
  ASSERT_TRUE(Create(SpecFor(Address(source.port())), "watched", &job).ok());
  std::thread deleter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    v1::DeleteJobRequest request;
    request.set_id("watched");
    grpc::ClientContext context;
    Deadline(&context);
    google::protobuf::Empty empty;
    EXPECT_TRUE(stub_->DeleteJob(&context, request, &empty).ok());
  });
  grpc::Status end;
  std::vector<v1::Job> seen = Watch("watched", &end);
  deleter.join();
  EXPECT_FALSE(seen.empty());
  // Either the cancellation was seen (terminal, OK) or the job vanished.
  if (!end.ok()) {
    ExpectStatus(end, grpc::StatusCode::NOT_FOUND, "job watched was deleted");
  } else {
    EXPECT_EQ(seen.back().status().state(), v1::JobStatus::CANCELLED);
  }
}

TEST_F(JobServiceTest, PasswordsAreNeverReturned) {
  SilentListener source;
  v1::JobSpec spec =
      SpecFor(Address(source.port()), R"(,"username":"repl","password":"src-secret")");
  spec.mutable_targets(0)->set_username("t");
  spec.mutable_targets(0)->set_password("tgt-secret");
  v1::Job job;
  ASSERT_TRUE(Create(spec, "secretive", &job).ok());
  EXPECT_THAT(client::MessageToJson(job, false), Not(HasSubstr("secret\"")));
  EXPECT_EQ(job.spec().source().username(), "repl");
  ASSERT_TRUE(Get("secretive", &job).ok());
  EXPECT_THAT(client::MessageToJson(job, false), Not(HasSubstr("-secret")));
  EXPECT_THAT(client::MessageToJson(List(), false), Not(HasSubstr("-secret")));
  grpc::Status end;
  std::vector<v1::Job> seen = Watch("secretive", &end, [](const v1::Job&) { return true; });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(client::MessageToJson(seen[0], false), Not(HasSubstr("-secret")));
}

TEST_F(JobServiceTest, MetricsAreServedAndPassPromtool) {
  const uint16_t port = testing::PickFreePort();
  v1::Job job;
  ASSERT_TRUE(Create(SpecFor(Address(port)), "metered", &job).ok());
  grpc::Status end;
  Watch("metered", &end);  // until FAILED

  const std::string body = HttpGet(daemon_->metrics_port(), "/metrics");
  // Every family the exporter has (dashboards_test lists them by name).
  JobView one_target{.id = "x", .spec = {}, .status = {}};
  one_target.status.targets.resize(1);
  for (const auto& family : JobMetricFamilies({one_target})) {
    const std::string& name = family.name;
    EXPECT_THAT(body, HasSubstr(std::string("# HELP ") + name + " ")) << name;
    EXPECT_THAT(body, HasSubstr(std::string(name) + "{job_id=\"metered\"")) << name;
  }
  EXPECT_THAT(body, HasSubstr("reshard_job_state{job_id=\"metered\",state=\"FAILED\"} 1"));
  EXPECT_THAT(body, HasSubstr("reshard_job_state{job_id=\"metered\",state=\"STREAMING\"} 0"));
  EXPECT_THAT(body, HasSubstr("reshard_job_state{job_id=\"metered\",state=\"DEGRADED\"} 0"));
  EXPECT_THAT(body, HasSubstr("reshard_target_keys_kept_total{job_id=\"metered\",target=\"b\"} 0"));
  EXPECT_THAT(body, HasSubstr("reshard_target_state{job_id=\"metered\",target=\"b\","
                              "state=\"CUT_OFF\"} 0"));
  EXPECT_THAT(body, Not(HasSubstr("{job=")));

  const std::string path = ::testing::TempDir() + "/reshard_metrics.txt";
  std::ofstream(path) << body;
  const std::string command = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  int rc = std::system(command.c_str());
  std::ifstream out(path + ".out");
  std::stringstream promtool;
  promtool << out.rdbuf();
  EXPECT_EQ(rc, 0) << promtool.str() << "\n" << body;
}

TEST_F(JobServiceTest, StateDirRestoresJobsAndKeepsPasswordsApart) {
  const std::string dir = ::testing::TempDir() + "/reshard_state_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  daemon_.reset();
  StartDaemon(dir);

  SilentListener source;
  v1::JobSpec spec = SpecFor(Address(source.port()), R"(,"password":"src-secret")");
  v1::Job job;
  ASSERT_TRUE(Create(spec, "keep", &job).ok());
  ASSERT_TRUE(Create(SpecFor(Address(testing::PickFreePort())), "broken", &job).ok());
  grpc::Status end;
  ASSERT_EQ(Watch("broken", &end).back().status().state(), v1::JobStatus::FAILED);
  // The monitor persists the FAILED state shortly after the job publishes it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  daemon_->Shutdown();
  daemon_.reset();

  std::ifstream spec_file(dir + "/keep.json");
  std::stringstream spec_text;
  spec_text << spec_file.rdbuf();
  EXPECT_THAT(spec_text.str(), HasSubstr("\"id\": \"keep\""));
  EXPECT_THAT(spec_text.str(), Not(HasSubstr("src-secret")));
  struct stat secret_stat {};
  ASSERT_EQ(::stat((dir + "/keep.secret.json").c_str(), &secret_stat), 0);
  EXPECT_EQ(secret_stat.st_mode & 0777, 0600);
  std::ifstream secret_file(dir + "/keep.secret.json");
  std::stringstream secret_text;
  secret_text << secret_file.rdbuf();
  EXPECT_THAT(secret_text.str(), HasSubstr("src-secret"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/broken.secret.json"));

  StartDaemon(dir);
  v1::ListJobsResponse list = List();
  ASSERT_EQ(list.jobs_size(), 2);
  EXPECT_EQ(list.jobs(0).id(), "broken");
  EXPECT_EQ(list.jobs(0).status().state(), v1::JobStatus::FAILED);
  EXPECT_THAT(list.jobs(0).status().error().message(), Not(::testing::IsEmpty()));
  EXPECT_EQ(list.jobs(1).id(), "keep");
  EXPECT_NE(list.jobs(1).status().state(), v1::JobStatus::FAILED);
  EXPECT_NE(list.jobs(1).status().state(), v1::JobStatus::CANCELLED);
  EXPECT_EQ(list.jobs(1).spec().source().password(), "");
  EXPECT_EQ(list.jobs(1).spec().targets(1).filter().prefix(), "user:");

  // Deleting forgets the files too.
  v1::DeleteJobRequest request;
  request.set_id("keep");
  grpc::ClientContext context;
  Deadline(&context);
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteJob(&context, request, &empty).ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/keep.json"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/keep.secret.json"));
  daemon_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(JobServiceTest, StandardHealthServiceAnswersServing) {
  // grpc.health.v1.Health/Check with an empty HealthCheckRequest (service
  // ""), spoken as raw bytes: the reply must be {status: SERVING} = 08 01.
  auto channel =
      grpc::CreateChannel(Address(daemon_->grpc_port()), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  Deadline(&context);
  grpc::ByteBuffer request;  // empty message
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace reshard::server
