// Secrets at rest and in every output (issue 12): reshardd as a real process
// with --state_dir, --auth_token_file and --secrets_key_file runs a job whose
// source, target listeners and managed targets all have passwords, and a job
// whose source password is wrong; then every file the run wrote (reshardd's
// stdout and stderr, reshardctl's output, GetJob and ListJobs as JSON,
// /metrics, every file of the state dir) is searched for each password. The
// state dir is 0700 and its secret and stream files 0600; a restart with the
// same key restores the job (its sealed passwords open), one with another
// key lists it FAILED naming the file. Also: reshardd refuses an unprotected
// non-loopback --grpc_listen with the reason, and takes it with
// --allow_insecure.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/rpc/ctl_commands.h"
#include "google/protobuf/util/json_util.h"
#include "reshard/v1/job_service.pb.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_servers.h"

extern char** environ;

namespace reshard::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kReshardd = std::string(RESHARD_BINARY_DIR) + "/server/reshardd";

// Each distinct, so that a leak names its origin.
constexpr char kSourcePassword[] = "src-Pw-9f1c2e7a5b";
constexpr char kListenerPassword[] = "lsn-Pw-3d8e6a0c4f";
constexpr char kTargetPassword[] = "tgt-Pw-7b2f9d1e3a";
constexpr char kWrongPassword[] = "bad-Pw-0e4a6c8b2d";
constexpr char kToken[] = "tok-secrets-test-5a7c9e1f3b";
const std::vector<std::string> kSecrets = {kSourcePassword, kListenerPassword, kTargetPassword,
                                           kWrongPassword, kToken};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

unsigned ModeOf(const std::string& path) {
  struct stat info {};
  ::stat(path.c_str(), &info);
  return info.st_mode & 07777;
}

// GET http://127.0.0.1:<port>/metrics over a plain socket ("" on failure).
std::string HttpGet(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  absl::StatusOr<testing::RedisClient> connection =
      testing::RedisClient::Connect("127.0.0.1", std::stoi(address.substr(colon + 1)));
  if (!connection.ok()) return "";
  if (!connection->SendRaw("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()) return "";
  std::string response;
  for (absl::StatusOr<std::string> byte; (byte = connection->ReadBytes(1)).ok();) {
    response += *byte;
  }
  return response;
}

class Reshardd {
 public:
  explicit Reshardd(std::string log_prefix) : log_prefix_(std::move(log_prefix)) {}
  ~Reshardd() { Kill(); }

  // Starts it; waits until it serves (OK) or exits (an error with its log).
  absl::Status Start(const std::vector<std::string>& flags) {
    ++starts_;
    out_path_ = absl::StrCat(log_prefix_, starts_, ".stdout");
    err_path_ = absl::StrCat(log_prefix_, starts_, ".stderr");
    std::vector<std::string> argv = {kReshardd};
    argv.insert(argv.end(), flags.begin(), flags.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT, 0644);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, kReshardd.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return absl::InternalError("cannot start " + kReshardd);
    static const std::regex kGrpc("gRPC listening on ([0-9.]+:[0-9]+)");
    static const std::regex kMetrics("metrics listening on http://([0-9.]+:[0-9]+)/metrics");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      const std::string log = Log();
      std::smatch match;
      if (std::regex_search(log, match, kGrpc)) {
        grpc_ = match[1];
        if (std::regex_search(log, match, kMetrics)) metrics_ = match[1];
        return absl::OkStatus();
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return absl::FailedPreconditionError("reshardd exited: " + Log());
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::DeadlineExceededError("reshardd did not start: " + Log());
  }
  // SIGTERM and wait; the exit code.
  int Terminate() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string Log() const { return ReadFile(err_path_); }
  const std::string& grpc() const { return grpc_; }
  const std::string& metrics() const { return metrics_; }
  int exit_code() const { return exit_code_; }

 private:
  const std::string log_prefix_;
  int starts_ = 0;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string out_path_, err_path_, grpc_, metrics_;
};

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "token", std::string(kToken) + "\n", 0600);
    WriteFile(dir_ / "secrets.key", std::string(64, 'c') + "\n", 0600);
    WriteFile(dir_ / "other.key", std::string(64, 'd') + "\n", 0600);
  }

  // reshardctl --server <reshardd> --token_file <token> args...; its stdout
  // and stderr are kept in the run's dir too, for the final search.
  int Ctl(const std::vector<std::string>& args, std::string* out = nullptr) {
    std::vector<std::string> argv = {"--server", reshardd_.grpc(), "--token_file", dir_ / "token"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out_stream, err_stream;
    const int code = client::RunCtl(argv, out_stream, err_stream, /*redraw=*/false);
    ++ctl_calls_;
    WriteFile(absl::StrCat(dir_ / "ctl.", ctl_calls_, ".stdout"), out_stream.str());
    WriteFile(absl::StrCat(dir_ / "ctl.", ctl_calls_, ".stderr"), err_stream.str());
    if (out != nullptr) *out = out_stream.str();
    EXPECT_EQ(code, 0) << absl::StrJoin(args, " ") << ": " << err_stream.str();
    return code;
  }

  v1::Job Get(const std::string& id) {
    std::string json;
    Ctl({"get", id, "-o", "json"}, &json);
    v1::Job job;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &job, options).ok()) << json;
    return job;
  }

  // Polls the job until `done` holds; a test failure naming `what` and the
  // last status if not within 60 s.
  v1::Job WaitJob(const std::string& id, const std::function<bool(const v1::Job&)>& done,
                  const std::string& what) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    v1::Job job;
    while (absl::Now() < deadline) {
      job = Get(id);
      if (done(job)) return job;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << id << ": not " << what << " within 60 s: " << job.ShortDebugString();
    return job;
  }

  static bool Streaming(const v1::Job& job) {
    if (job.status().state() != v1::JobStatus::STREAMING) return false;
    for (const v1::TargetStatus& target : job.status().targets()) {
      if (target.state() != v1::TargetStatus::STREAMING) return false;
    }
    return true;
  }

  std::vector<std::string> Flags(const std::string& key_file) {
    return {"--grpc_listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
            "--state_dir=" + (dir_ / "state"), "--auth_token_file=" + (dir_ / "token"),
            "--secrets_key_file=" + key_file};
  }

  testing::TempDir dir_{"secrets_test"};
  Reshardd reshardd_{dir_ / "reshardd."};
  int ctl_calls_ = 0;
};

TEST_F(SecretsTest, NoPasswordInAnythingARunWritesAndSecretFilesAreSealed) {
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  std::unique_ptr<testing::RedisServer> left = testing::StartServer();
  std::unique_ptr<testing::RedisServer> right = testing::StartServer();
  std::unique_ptr<testing::RedisServer> spare = testing::StartServer();
  ASSERT_TRUE(source && left && right && spare);
  testing::RedisClient source_client = testing::Connect(*source);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(source_client.CheckedCommand({"SET", absl::StrCat(i, ":key"), "v"}).ok());
  }
  ASSERT_TRUE(source_client.CheckedCommand({"CONFIG", "SET", "requirepass", kSourcePassword}).ok());
  for (testing::RedisServer* target : {left.get(), right.get(), spare.get()}) {
    testing::RedisClient client = testing::Connect(*target);
    ASSERT_TRUE(client.CheckedCommand({"CONFIG", "SET", "requirepass", kTargetPassword}).ok());
  }
  auto target_json = [&](const char* name, const char* regex, const testing::RedisServer& server) {
    return absl::StrCat(R"({"name": ")", name, R"(", "filter": {"regex": ")", regex,
                        R"("}, "listen": "127.0.0.1:)", testing::PickFreePort(),
                        R"(", "password": ")", kListenerPassword, R"(", "replica": {"address": ")",
                        server.address(), R"(", "password": ")", kTargetPassword, R"("}})");
  };
  WriteFile(
      dir_ / "job.json",
      absl::StrCat(R"({"source": {"address": ")", source->address(), R"(", "password": ")",
                   kSourcePassword, R"("}, "targets": [)", target_json("left", "^[0-4]", *left),
                   ", ", target_json("right", "^[5-9]", *right), "]}"));
  WriteFile(dir_ / "bad.json",
            absl::StrCat(R"({"source": {"address": ")", source->address(), R"(", "password": ")",
                         kWrongPassword, R"("}, "targets": [)",
                         target_json("spare", "^[0-9]", *spare), "]}"));

  ASSERT_TRUE(reshardd_.Start(Flags(dir_ / "secrets.key")).ok()) << reshardd_.Log();
  ASSERT_FALSE(reshardd_.metrics().empty()) << reshardd_.Log();
  EXPECT_THAT(reshardd_.Log(), HasSubstr("(no TLS, bearer token required)"));
  Ctl({"create", "-f", dir_ / "job.json", "--id", "secrets"});
  Ctl({"create", "-f", dir_ / "bad.json", "--id", "wrong-password"});
  WaitJob("secrets", Streaming, "STREAMING");
  // The targets replicate with the listener's password (masterauth).
  testing::RedisClient left_client = testing::Connect(*left);
  ASSERT_TRUE(left_client.CheckedCommand({"AUTH", kTargetPassword}).ok());
  EXPECT_TRUE(left_client.WaitForKey("3:key", absl::Seconds(30), "left has 3:key").ok());
  v1::Job failed = WaitJob(
      "wrong-password",
      [](const v1::Job& job) { return job.status().state() == v1::JobStatus::FAILED; }, "FAILED");
  EXPECT_THAT(failed.status().error().message(), Not(HasSubstr(kWrongPassword)));

  // Everything the API shows.
  Ctl({"list", "-o", "wide"});
  Ctl({"list", "-o", "json"});
  Ctl({"get", "secrets", "-o", "wide"});
  Ctl({"get", "wrong-password", "-o", "wide"});
  const std::string metrics = HttpGet(reshardd_.metrics(), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("reshard_"));
  WriteFile(dir_ / "metrics.txt", metrics);
  EXPECT_EQ(reshardd_.Terminate(), 0) << reshardd_.Log();

  // The state dir is its owner's; secret files 0600 and sealed; the job's
  // durable state (journal, stream logs) 0600.
  const std::string state = dir_ / "state";
  EXPECT_EQ(ModeOf(state), 0700u);
  const std::string secret_file = state + "/secrets.secret.json";
  ASSERT_TRUE(std::filesystem::exists(secret_file));
  EXPECT_EQ(ModeOf(secret_file), 0600u);
  EXPECT_EQ(ReadFile(secret_file).rfind("reshard-sealed-v1\n", 0), 0u);
  EXPECT_THAT(ReadFile(secret_file), Not(HasSubstr("password")));
  int durable_files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(state + "/secrets.state")) {
    if (!entry.is_regular_file()) continue;
    ++durable_files;
    EXPECT_EQ(ModeOf(entry.path()), 0600u) << entry.path();
  }
  EXPECT_GT(durable_files, 0);

  // Restarted with the same key: the sealed passwords open, the job streams
  // again. With another key: listed FAILED, naming the file.
  ASSERT_TRUE(reshardd_.Start(Flags(dir_ / "secrets.key")).ok()) << reshardd_.Log();
  WaitJob("secrets", Streaming, "STREAMING after a restart");
  EXPECT_EQ(reshardd_.Terminate(), 0) << reshardd_.Log();
  ASSERT_TRUE(reshardd_.Start(Flags(dir_ / "other.key")).ok()) << reshardd_.Log();
  v1::Job locked = Get("secrets");
  EXPECT_EQ(locked.status().state(), v1::JobStatus::FAILED);
  EXPECT_EQ(locked.status().error().message(),
            secret_file +
                ": cannot be decrypted with this key (another key, or the file was altered): "
                "start reshardd with the --secrets_key_file it was written with");
  EXPECT_EQ(reshardd_.Terminate(), 0) << reshardd_.Log();
  // Not rewritten by that start: the right key still opens it.
  EXPECT_EQ(ReadFile(secret_file).rfind("reshard-sealed-v1\n", 0), 0u);

  // No secret in anything the run wrote but the files that hold them.
  int searched = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "token" || name == "job.json" || name == "bad.json") continue;
    ++searched;
    const std::string text = ReadFile(entry.path());
    for (const std::string& secret : kSecrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << entry.path();
    }
  }
  EXPECT_GT(searched, 15);
}

TEST(SecretsListenTest, ReshardRefusesAnUnprotectedNonLoopbackListenSayingWhy) {
  testing::TempDir dir("secrets_test");
  Reshardd refused(dir / "refused.");
  absl::Status start = refused.Start({"--grpc_listen=0.0.0.0:0", "--metrics_listen="});
  EXPECT_FALSE(start.ok());
  EXPECT_EQ(refused.exit_code(), 1);
  EXPECT_THAT(refused.Log(),
              HasSubstr("cannot start: FAILED_PRECONDITION: --grpc_listen=0.0.0.0:0 is not a "
                        "loopback address and nothing protects it: anyone who reaches it could "
                        "create jobs and make reshardd send REPLICAOF and CONFIG SET to any Redis "
                        "it can reach. Give --grpc_tls_cert/--grpc_tls_key (and "
                        "--grpc_tls_client_ca), --auth_token_file, or both, listen on 127.0.0.1, "
                        "or pass --allow_insecure if the network is trusted\n"));

  Reshardd allowed(dir / "allowed.");
  ASSERT_TRUE(
      allowed.Start({"--grpc_listen=0.0.0.0:0", "--metrics_listen=", "--allow_insecure"}).ok())
      << allowed.Log();
  EXPECT_THAT(allowed.Log(), HasSubstr("gRPC listening on 0.0.0.0:"));
  EXPECT_EQ(allowed.Terminate(), 0);
}

}  // namespace
}  // namespace reshard::integration
