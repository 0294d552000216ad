// The built reshardctl binary against a spawned reshardd (both from
// RESHARD_BINARY_DIR), on ports the test picks; reshardd is stopped by PID.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "reshard/v1/job_service.pb.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/silent_listener.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_servers.h"

extern char** environ;

namespace reshard::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kReshardd = std::string(RESHARD_BINARY_DIR) + "/server/reshardd";
const std::string kReshardctl = std::string(RESHARD_BINARY_DIR) + "/client/reshardctl";

std::string Address(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/reshardctl_test_" + std::to_string(getpid()) + "_" + name;
}

// Spawns `argv` with stdout and stderr to files; returns the PID.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path,
            const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

using testing::SilentListener;

class ReshardctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string out = TempPath("reshardd.out");
    err_path_ = TempPath("reshardd.err");
    pid_ = Spawn({kReshardd, "--grpc_listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0"}, out,
                 err_path_);
    ASSERT_GT(pid_, 0) << "cannot start " << kReshardd;
    // reshardd prints the port it bound: "reshardd: gRPC listening on 127.0.0.1:PORT".
    static const std::regex kListening("gRPC listening on (127\\.0\\.0\\.1:[0-9]+)");
    for (int i = 0; i < 200 && server_.empty(); ++i) {
      std::smatch match;
      std::string log = ReadFile(err_path_);
      if (std::regex_search(log, match, kListening)) server_ = match[1];
      if (server_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_FALSE(server_.empty()) << "reshardd did not start:\n" << ReadFile(err_path_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "reshardd did not stop cleanly:\n"
          << ReadFile(err_path_);
    }
  }

  // Runs reshardctl --server <ours> args...
  Result Ctl(std::vector<std::string> args, bool with_server = true) {
    std::vector<std::string> argv = {kReshardctl};
    if (with_server) {
      argv.push_back("--server");
      argv.push_back(server_);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = TempPath("ctl.out");
    const std::string err = TempPath("ctl.err");
    pid_t pid = Spawn(argv, out, err);
    Result result;
    if (pid <= 0) return result;
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = ReadFile(out);
    result.err = ReadFile(err);
    return result;
  }

  std::string WriteSpec(const std::string& name, const std::string& json) {
    const std::string path = TempPath(name);
    std::ofstream(path) << json;
    return path;
  }

  std::string SpecJson(const std::string& source, const std::string& regex_b = "^[5-9]") {
    return R"({"source":{"address":")" + source +
           R"(","password":"top-secret"},"targets":[{"name":"a","filter":{"regex":"^[0-4]"},"listen":")" +
           Address(testing::PickFreePort()) + R"("},{"name":"b","filter":{"regex":")" + regex_b +
           R"("},"listen":")" + Address(testing::PickFreePort()) +
           R"("}],"options":{"connect_attempts":1}})";
  }

  pid_t pid_ = -1;
  std::string err_path_;
  std::string server_;
};

TEST_F(ReshardctlTest, UsageErrorsExitTwo) {
  Result none = Ctl({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, StartsWith("reshardctl: no command given\nusage: reshardctl"));

  Result unknown = Ctl({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, StartsWith("reshardctl: unknown command 'frobnicate'\n"));

  Result no_id = Ctl({"get"});
  EXPECT_EQ(no_id.exit_code, 2);
  EXPECT_THAT(no_id.err, StartsWith("reshardctl: get: expected one JOB id\n"));

  Result bad_output = Ctl({"-o", "yaml", "list"});
  EXPECT_EQ(bad_output.exit_code, 2);
  EXPECT_THAT(bad_output.err,
              StartsWith("reshardctl: -o: expected table, wide or json, got 'yaml'\n"));

  // `reshardctl rdb ...` goes to the local RDB commands, which need no server.
  Result rdb = Ctl({"rdb", "frobnicate"}, /*with_server=*/false);
  EXPECT_EQ(rdb.exit_code, 2);
  EXPECT_THAT(rdb.err, StartsWith("reshardctl rdb: "));
  EXPECT_THAT(rdb.err, Not(HasSubstr("reshardctl: ")));
}

TEST_F(ReshardctlTest, UnreachableServerSaysSo) {
  const std::string nowhere = Address(testing::PickFreePort());
  Result result = Ctl({"--server", nowhere, "list"}, /*with_server=*/false);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, StartsWith("reshardctl: UNAVAILABLE: "));
  EXPECT_THAT(result.err, HasSubstr("(cannot reach reshardd at " + nowhere + ")\n"));
  EXPECT_EQ(result.out, "");
}

TEST_F(ReshardctlTest, BadSpecsPrintTheServersMessage) {
  Result regex = Ctl({"create", "-f", WriteSpec("bad.json", SpecJson("127.0.0.1:6390", "(x"))});
  EXPECT_EQ(regex.exit_code, 1);
  EXPECT_EQ(regex.err,
            "reshardctl: INVALID_ARGUMENT: targets[1].filter.regex: invalid regex '(x': "
            "missing )\n");

  const std::string fuzzy = WriteSpec(
      "fuzzy.json",
      R"({"source":{"address":"127.0.0.1:6390"},"targets":[{"name":"a","filter":{"fuzzy":"x"},"listen":"127.0.0.1:7001"}]})");
  Result kind = Ctl({"create", "-f", fuzzy});
  EXPECT_EQ(kind.exit_code, 1);
  EXPECT_EQ(kind.err, "reshardctl: " + fuzzy +
                          ": INVALID_ARGUMENT: targets[0].filter.fuzzy: unknown field; a filter "
                          "is one of regex, prefix, glob, slots\n");

  Result missing = Ctl({"create", "-f", TempPath("does-not-exist.json")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "reshardctl: cannot read " + TempPath("does-not-exist.json") + "\n");

  Result bad_id =
      Ctl({"create", "-f", WriteSpec("ok.json", SpecJson("127.0.0.1:6390")), "--id", "X"});
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_EQ(bad_id.err,
            "reshardctl: INVALID_ARGUMENT: job_id: 'X' must start with a lowercase letter\n");
  EXPECT_EQ(Ctl({"list"}).out, "ID  STATE  SOURCE  TARGETS  DETAIL\n");
}

TEST_F(ReshardctlTest, CreateListGetCancelWatchDelete) {
  SilentListener source;
  const std::string spec = WriteSpec("life.json", SpecJson(Address(source.port())));
  Result created = Ctl({"create", "-f", spec, "--id", "life"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "created job life\n");
  EXPECT_EQ(created.err, "");

  Result duplicate = Ctl({"create", "-f", spec, "--id", "life"});
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_EQ(duplicate.err, "reshardctl: ALREADY_EXISTS: job life already exists\n");

  Result list = Ctl({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, StartsWith("ID    STATE"));
  EXPECT_THAT(list.out, HasSubstr("life  "));
  EXPECT_THAT(list.out, HasSubstr(Address(source.port()) + "  2"));

  Result get = Ctl({"get", "life"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, StartsWith("job life: "));
  EXPECT_THAT(get.out, HasSubstr("  source:   " + Address(source.port())));
  // A source that never answers: its offset is not known, nothing acked.
  EXPECT_THAT(get.out, HasSubstr("\n  lag:      unknown (the source's offset is not known yet)\n"
                                 "  upstream: acked offset 0\n"));
  EXPECT_THAT(get.out, HasSubstr("SPOOL  RESYNCS\n"));
  EXPECT_THAT(get.out, Not(HasSubstr("top-secret")));

  Result json = Ctl({"-o", "json", "get", "life"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  v1::Job job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &job).ok()) << json.out;
  EXPECT_EQ(job.id(), "life");
  EXPECT_EQ(job.spec().targets(1).filter().regex(), "^[5-9]");
  EXPECT_EQ(job.spec().source().password(), "");
  EXPECT_THAT(json.out, HasSubstr("\"rdb_keys_kept\": \"0\""));
  EXPECT_THAT(json.out, HasSubstr("\"source_lag_bytes\": \"0\""));
  EXPECT_THAT(json.out, HasSubstr("\"ack_mode\": \"APPLIED\""));
  EXPECT_THAT(json.out, HasSubstr("\"spool_max_bytes\": \"1073741824\""));
  ASSERT_EQ(job.status().targets_size(), 2);
  EXPECT_EQ(job.status().targets(0).state(), v1::TargetStatus::WAITING);
  EXPECT_THAT(json.out, Not(HasSubstr("top-secret")));

  Result cancel = Ctl({"cancel", "life"});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_THAT(cancel.out, StartsWith("cancel requested for job life (now "));

  Result watch = Ctl({"watch", "life"});
  EXPECT_EQ(watch.exit_code, 1);
  EXPECT_EQ(watch.err, "reshardctl: job life CANCELLED\n");
  EXPECT_THAT(watch.out, HasSubstr("job life: CANCELLED\n"));

  Result again = Ctl({"cancel", "life"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err,
            "reshardctl: FAILED_PRECONDITION: job life is CANCELLED; it has already ended\n");

  Result pause = Ctl({"pause", "life"});
  EXPECT_EQ(pause.exit_code, 1);
  EXPECT_EQ(pause.err,
            "reshardctl: FAILED_PRECONDITION: job life is CANCELLED; only a STREAMING job can be "
            "paused\n");

  Result deleted = Ctl({"delete", "life"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted job life\n");

  Result gone = Ctl({"get", "life"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err, "reshardctl: NOT_FOUND: job life not found\n");
  EXPECT_EQ(gone.out, "");
}

TEST_F(ReshardctlTest, WatchOfAFailingJobPrintsTheErrorAndExitsNonZero) {
  const std::string source = Address(testing::PickFreePort());  // nothing listens
  Result created = Ctl({"-o", "json", "create", "-f", WriteSpec("fail.json", SpecJson(source))});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  v1::Job job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(created.out, &job).ok()) << created.out;
  EXPECT_THAT(job.id(), ::testing::MatchesRegex("job-[0-9a-f]{8}"));

  Result watch = Ctl({"watch", job.id()});
  EXPECT_EQ(watch.exit_code, 1);
  EXPECT_EQ(watch.err, "reshardctl: job " + job.id() + " FAILED: UNAVAILABLE: source " + source +
                           ": cannot connect: Connection refused\n");
  EXPECT_THAT(watch.out, HasSubstr("job " + job.id() + ": FAILED\n"));
  EXPECT_THAT(watch.out, HasSubstr("  error:    UNAVAILABLE: source " + source));

  // -o json watch prints one Job per line.
  Result json_watch = Ctl({"-o", "json", "watch", job.id()});
  EXPECT_EQ(json_watch.exit_code, 1);
  std::istringstream lines(json_watch.out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  v1::Job last;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &last).ok()) << line;
  EXPECT_EQ(last.status().state(), v1::JobStatus::FAILED);

  Result list = Ctl({"list"});
  EXPECT_THAT(list.out, HasSubstr("FAILED"));
  EXPECT_THAT(list.out, HasSubstr("UNAVAILABLE: source " + source));
}

// Runs `command` with sh; its stdout (stderr with it).
std::string Shell(const std::string& command, int* exit_code = nullptr) {
  const std::string out = TempPath("shell.out");
  int rc = std::system((command + " > " + out + " 2>&1").c_str());
  if (exit_code != nullptr) *exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return ReadFile(out);
}

TEST_F(ReshardctlTest, VersionAndHelpOfBothBinaries) {
  int rc = -1;
  const std::string version = Shell(kReshardd + " --version", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(version, ::testing::MatchesRegex("reshardd [0-9]+\\.[0-9]+\\.[0-9]+\n"));
  EXPECT_EQ(Ctl({"--version"}, false).out, "reshardctl " + version.substr(9));

  // --help lists reshardd's flags, naming no path of the build machine.
  const std::string help = Shell(kReshardd + " --help", &rc);
  for (const char* flag :
       {"--grpc_listen", "--metrics_listen", "--state_dir", "--spool_dir", "--log_format"}) {
    EXPECT_THAT(help, HasSubstr(flag));
  }
  EXPECT_THAT(help, HasSubstr("Flags from reshardd_main.cc:"));
  EXPECT_THAT(help, Not(HasSubstr(RESHARD_SOURCE_DIR)));
  EXPECT_THAT(help, Not(HasSubstr(RESHARD_BINARY_DIR)));

  const std::string bad = Shell(kReshardd + " --log_format=xml", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(bad, "reshardd: --log_format: expected text or json, got 'xml'\n");
}

TEST_F(ReshardctlTest, GetAndListWide) {
  SilentListener source;
  ASSERT_EQ(Ctl({"create", "-f", WriteSpec("wide.json", SpecJson(Address(source.port()))), "--id",
                 "wide"})
                .exit_code,
            0);
  Result get = Ctl({"get", "wide"});
  Result wide = Ctl({"-o", "wide", "get", "wide"});
  EXPECT_THAT(get.out, HasSubstr("  TARGET  STATE    REPLICAS  KEYS KEPT  SENT  LAG  SPOOL  "
                                 "RESYNCS\n"));
  EXPECT_TRUE(std::regex_search(wide.out, std::regex("  TARGET +FILTER +LISTEN +STATE +REPLICAS +"
                                                     "KEYS KEPT +KEYS DROPPED +CMDS KEPT")))
      << wide.out;
  EXPECT_THAT(wide.out, HasSubstr("regex:^[0-4]"));
  const std::string list = Ctl({"list", "-o", "wide"}).out;
  EXPECT_TRUE(std::regex_search(
      list, std::regex("ID +STATE +SOURCE +TARGETS +UPSTREAM +SOURCE LAG +TARGET STATES +DETAIL\n"
                       "wide +CONNECTING +127.0.0.1:[0-9]+ +2 +(not )?connected +\\? +"
                       "a=WAITING,b=WAITING ")))
      << list;
}

TEST_F(ReshardctlTest, LogHasOneLinePerEventWithTimeLevelAndJob) {
  SilentListener source;
  ASSERT_EQ(Ctl({"create", "-f", WriteSpec("log.json", SpecJson(Address(source.port()))), "--id",
                 "logged"})
                .exit_code,
            0);
  ASSERT_EQ(Ctl({"cancel", "logged"}).exit_code, 0);
  ASSERT_TRUE(testing::RedisClient::WaitFor(
                  [&] { return ReadFile(err_path_).find("-> CANCELLED") != std::string::npos; },
                  absl::Seconds(20), "the CANCELLED line")
                  .ok())
      << ReadFile(err_path_);
  const std::string log = ReadFile(err_path_);
  const std::string time = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";
  EXPECT_TRUE(std::regex_search(log, std::regex(time + " INFO gRPC listening on 127\\.0\\.0\\.1:")))
      << log;
  EXPECT_TRUE(std::regex_search(
      log, std::regex(time + " INFO job=logged created with 2 target\\(s\\), source 127")))
      << log;
  EXPECT_TRUE(
      std::regex_search(log, std::regex(time + " INFO job=logged job PENDING -> CONNECTING: ")))
      << log;
  EXPECT_TRUE(std::regex_search(
      log, std::regex(time + " INFO job=logged job CONNECTING -> CANCELLED: cancelled\n")))
      << log;
  // Every line is an event line.
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(std::regex_search(line, std::regex("^" + time + " (INFO|WARNING|ERROR) "))) << line;
  }
}

TEST_F(ReshardctlTest, JsonLogFormatIsOneObjectPerLine) {
  const std::string err = TempPath("json.err");
  pid_t pid =
      Spawn({kReshardd, "--grpc_listen=127.0.0.1:0", "--metrics_listen=", "--log_format=json"},
            TempPath("json.out"), err);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(testing::RedisClient::WaitFor(
                  [&] { return ReadFile(err).find("gRPC listening") != std::string::npos; },
                  absl::Seconds(20), "reshardd started")
                  .ok());
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::istringstream lines(ReadFile(err));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    google::protobuf::Value value;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &value).ok()) << line;
    const auto& fields = value.struct_value().fields();
    EXPECT_TRUE(fields.contains("time") && fields.contains("level") && fields.contains("event") &&
                fields.contains("message"))
        << line;
  }
  EXPECT_GE(count, 3);  // starting, listening, SIGTERM, stopped
  EXPECT_THAT(ReadFile(err), HasSubstr(R"("level":"INFO","event":"daemon","message":"stopped"})"));
}

// verify of an unmanaged target that serves TLS only (client certificates
// required): --target with --target_tls_ca/_cert/_key reads it over TLS;
// without them the verify fails naming the target.
TEST_F(ReshardctlTest, VerifyReadsAnUnmanagedTlsTargetWithTheTargetTlsFlags) {
  const std::string certs_dir = TempPath("certs");
  ASSERT_EQ(::mkdir(certs_dir.c_str(), 0700) == 0 || errno == EEXIST, true);
  absl::StatusOr<testing::TestCertificates> certs = testing::MakeTestCertificates(certs_dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  testing::RedisServerOptions tls_only;
  tls_only.tls = certs->Server(/*auth_clients=*/true, /*tls_replication=*/false);
  std::unique_ptr<testing::RedisServer> b = testing::StartServer(tls_only);
  ASSERT_TRUE(source && b);
  testing::RedisClient source_client = testing::Connect(*source);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(source_client.CheckedCommand({"SET", "k" + std::to_string(i), "v"}).ok());
  }
  uint16_t listen_b = testing::PickFreePort();
  const std::string spec = WriteSpec(
      "tls-verify.json", R"({"source":{"address":")" + source->address() +
                             R"("},"targets":[{"name":"b","filter":{"glob":"*"},"listen":")" +
                             Address(listen_b) + R"("}]})");
  ASSERT_EQ(Ctl({"create", "-f", spec, "--id", "t"}).exit_code, 0);
  // b replicates from the plain listener; only its own port is TLS.
  testing::RedisClient b_client = testing::Connect(*b);
  ASSERT_TRUE(b_client.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(listen_b)}).ok());
  ASSERT_TRUE(
      testing::RedisClient::WaitFor(
          [&] { return b_client.CheckedCommand({"DBSIZE"})->integer == 20; }, absl::Seconds(30))
          .ok());

  const std::string target_b = "b=" + b->address();
  Result plain = Ctl({"verify", "t", "--rate", "0", "--target", target_b});
  EXPECT_EQ(plain.exit_code, 1) << plain.out;
  EXPECT_THAT(plain.err, HasSubstr("target 'b' " + b->address())) << plain.err;

  Result tls =
      Ctl({"verify", "t", "--rate", "0", "--target", target_b, "--target_tls_ca", certs->ca_file,
           "--target_tls_cert", certs->client_cert, "--target_tls_key", certs->client_key});
  EXPECT_EQ(tls.exit_code, 0) << tls.err << tls.out;
  EXPECT_THAT(tls.out, StartsWith("verification of job t: OK, no problems in 20 keys (full, "));

  // A wrong CA: the handshake fails, naming the target.
  Result wrong_ca =
      Ctl({"verify", "t", "--target", target_b, "--target_tls_ca", certs->other_ca_file,
           "--target_tls_cert", certs->client_cert, "--target_tls_key", certs->client_key});
  EXPECT_EQ(wrong_ca.exit_code, 1) << wrong_ca.out;
  EXPECT_THAT(wrong_ca.err, HasSubstr("target 'b' " + b->address() +
                                      ": TLS handshake failed: "
                                      "certificate verify failed"))
      << wrong_ca.err;
}

TEST_F(ReshardctlTest, BashCompletionOffersTheServersJobIds) {
  SilentListener source;
  for (const char* id : {"alpha", "beta"}) {
    ASSERT_EQ(
        Ctl({"create", "-f", WriteSpec("c.json", SpecJson(Address(source.port()))), "--id", id})
            .exit_code,
        0);
  }
  const std::string script = TempPath("completion.bash");
  std::ofstream(script) << Ctl({"completion", "bash"}, false).out;
  // The line being completed: `reshardctl --server ADDR watch ` (an empty word).
  const std::string words = kReshardctl + " --server " + server_ + " watch \"\"";
  int rc = -1;
  const std::string reply =
      Shell("bash --norc -c 'source " + script + "; COMP_WORDS=(" + words +
                "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _reshardctl; printf \"%s\\n\" "
                "\"${COMPREPLY[@]}\"'",
            &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(reply, "alpha\nbeta\n");
}

// The watch on a real terminal: tmux runs it in a 100x30 pane while the job
// waits for its target, then goes through the snapshot to STREAMING. The
// pane and its whole scrollback must show one frame, the last: the earlier
// ones were redrawn in place, not printed one after another.
TEST_F(ReshardctlTest, WatchRedrawsOneScreenInPlaceOnATerminal) {
  if (std::system("tmux -V > /dev/null 2>&1") != 0) GTEST_SKIP() << "tmux not installed";
  auto source = testing::StartServer();
  auto target = testing::StartServer();
  ASSERT_TRUE(source && target);
  testing::RedisClient writer = testing::Connect(*source);
  std::vector<std::vector<std::string>> fill;
  for (int i = 0; i < 5000; ++i) fill.push_back({"SET", "k" + std::to_string(i), "v"});
  ASSERT_NO_FATAL_FAILURE(testing::RunWithoutErrors(writer, fill));
  const uint16_t listen = testing::PickFreePort();
  const std::string spec =
      WriteSpec("tty.json", R"({"source":{"address":")" + source->address() +
                                R"("},"targets":[{"name":"all","filter":{"glob":"*"},"listen":")" +
                                Address(listen) + R"("}]})");
  Result created = Ctl({"create", "-f", spec, "--id", "tty"});
  ASSERT_EQ(created.exit_code, 0) << created.err;

  const std::string socket = TempPath("tmux.sock");
  const std::string tmux = "TERM=xterm tmux -S " + socket + " -f /dev/null ";
  const std::string watch =
      kReshardctl + " --server " + server_ + " watch tty; echo EXIT=\\$?; sleep 300";
  int rc = -1;
  const std::string started =
      Shell(tmux + "new-session -d -x 100 -y 30 -s w \"" + watch + "\"", &rc);
  ASSERT_EQ(rc, 0) << "tmux did not start: " << started;
  const std::string tmux_pid = Shell(tmux + "display-message -p -t w '#{pid}'");
  // The pane and its scrollback, each line without the blanks that erasing
  // to the end of a line leaves in tmux's cells.
  auto screen = [&] {
    std::istringstream lines(Shell(tmux + "capture-pane -p -J -S - -E - -t w"));
    std::string text;
    for (std::string line; std::getline(lines, line);) {
      text += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
    }
    return text;
  };
  ASSERT_TRUE(testing::RedisClient::WaitFor(
                  [&] { return screen().find("job tty: CONNECTING") != std::string::npos; },
                  absl::Seconds(20), "the CONNECTING frame", absl::Milliseconds(200))
                  .ok())
      << screen();
  const std::string waiting = screen();
  EXPECT_THAT(waiting, HasSubstr("waiting for target"));

  // The target attaches: the job syncs and streams; the watch ends.
  testing::RedisClient replica = testing::Connect(*target);
  ASSERT_TRUE(replica.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(listen)}).ok());
  ASSERT_TRUE(
      testing::RedisClient::WaitFor([&] { return screen().find("EXIT=") != std::string::npos; },
                                    absl::Seconds(60), "the watch to end", absl::Milliseconds(200))
          .ok())
      << screen();
  const std::string last = screen();
  Shell(tmux + "kill-server");
  if (!tmux_pid.empty()) ::kill(std::stoi(tmux_pid), SIGTERM);  // if kill-server did not

  EXPECT_THAT(last, HasSubstr("EXIT=0"));
  EXPECT_THAT(last, HasSubstr("job tty: STREAMING\n"));
  EXPECT_THAT(last, HasSubstr("  rdb:      done, 5000 keys"));
  EXPECT_THAT(last, HasSubstr("  all: STREAMING"));
  EXPECT_TRUE(
      std::regex_search(last, std::regex("source:   connected, reading [0-9.]+ [KMG]?i?B/s")))
      << last;
  // One frame in the pane and its scrollback: the earlier states are gone.
  size_t frames = 0;
  for (size_t at = last.find("job tty:"); at != std::string::npos;
       at = last.find("job tty:", at + 1)) {
    ++frames;
  }
  EXPECT_EQ(frames, 1u) << last;
  EXPECT_THAT(last, Not(HasSubstr("CONNECTING")));
  EXPECT_THAT(last, Not(HasSubstr("\033")));
  std::istringstream lines(last);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
}

// verify: a streaming job on real servers (b unmanaged, so its address comes
// from --target), then one stray key put on a target on purpose.
TEST_F(ReshardctlTest, VerifyPrintsTheCountsAndExitsThreeOnProblems) {
  std::unique_ptr<testing::RedisServer> source = testing::StartServer();
  std::unique_ptr<testing::RedisServer> a = testing::StartServer();
  std::unique_ptr<testing::RedisServer> b = testing::StartServer();
  ASSERT_TRUE(source && a && b);
  testing::RedisClient source_client = testing::Connect(*source);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        source_client.CheckedCommand({"SET", std::to_string(i % 10) + ":" + std::to_string(i), "v"})
            .ok());
  }
  uint16_t listen_b = testing::PickFreePort();
  const std::string spec =
      WriteSpec("verify.json",
                R"({"source":{"address":")" + source->address() +
                    R"("},"targets":[{"name":"a","filter":{"regex":"^[0-4]"},"listen":")" +
                    Address(testing::PickFreePort()) + R"(","replica":{"address":")" +
                    a->address() + R"("}},{"name":"b","filter":{"regex":"^[5-9]"},"listen":")" +
                    Address(listen_b) + R"("}]})");
  ASSERT_EQ(Ctl({"create", "-f", spec, "--id", "v"}).exit_code, 0);
  testing::RedisClient b_client = testing::Connect(*b);
  ASSERT_TRUE(b_client.CheckedCommand({"REPLICAOF", "127.0.0.1", std::to_string(listen_b)}).ok());
  Result watch = Ctl({"watch", "v"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  // The snapshot is loaded once both targets hold their halves.
  testing::RedisClient a_client = testing::Connect(*a);
  ASSERT_TRUE(testing::RedisClient::WaitFor(
                  [&] {
                    return a_client.CheckedCommand({"DBSIZE"})->integer == 50 &&
                           b_client.CheckedCommand({"DBSIZE"})->integer == 50;
                  },
                  absl::Seconds(30))
                  .ok());

  Result no_address = Ctl({"verify", "v"});
  EXPECT_EQ(no_address.exit_code, 1);
  EXPECT_EQ(no_address.err,
            "reshardctl: INVALID_ARGUMENT: targets[1] 'b': not a managed target, so its Redis "
            "address must be given (target_addresses)\n");
  Result usage = Ctl({"verify", "v", "--full", "--sample", "0.5"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, StartsWith("reshardctl: --full and --sample exclude each other\n"));

  const std::string target_b = "b=" + b->address();
  Result clean = Ctl({"verify", "v", "--full", "--rate", "0", "--target", target_b});
  EXPECT_EQ(clean.exit_code, 0) << clean.err << clean.out;
  EXPECT_THAT(clean.out, StartsWith("verification of job v: OK, no problems in 100 keys (full, "));
  EXPECT_THAT(clean.out, HasSubstr("keys checked 100 (on targets 100)  missing 0  stray 0  "
                                   "different 0"));
  EXPECT_THAT(clean.out, HasSubstr("db0  100     50 / 50  50 / 50\n"));

  ASSERT_TRUE(a_client.CheckedCommand({"CONFIG", "SET", "replica-read-only", "no"}).ok());
  ASSERT_TRUE(a_client.CheckedCommand({"SET", "7", "wrong target"}).ok());
  Result damaged = Ctl({"verify", "v", "--target", target_b});
  EXPECT_EQ(damaged.exit_code, 3) << damaged.err;
  EXPECT_THAT(damaged.out, StartsWith("verification of job v: 1 problem in 100 keys (full, "));
  EXPECT_THAT(damaged.out, HasSubstr("\nkeys checked 100 (on targets 101)  missing 0  stray 1  "
                                     "different 0  rechecked 0  unsettled 0\n"));
  EXPECT_THAT(damaged.out, HasSubstr("\ndb0  100     50 / 51 !  50 / 50\n"));
  EXPECT_THAT(damaged.out, HasSubstr("problems:\nDB  TARGET  KIND   KEY  DETAIL\n"
                                     "0   a       STRAY  7    not selected by the target's filter "
                                     "regex:^[0-4]\n"));

  Result json = Ctl({"-o", "json", "verify", "v", "--sample", "1", "--target", target_b});
  EXPECT_EQ(json.exit_code, 3) << json.err;
  v1::VerifyReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &report).ok()) << json.out;
  EXPECT_EQ(report.stray(), 1u);
  EXPECT_EQ(report.keys_checked(), 100u);
  ASSERT_EQ(report.problems_size(), 1);
  EXPECT_EQ(report.problems(0).key(), "7");

  // The job keeps its last verification.
  Result get = Ctl({"-o", "json", "get", "v"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  v1::Job job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(get.out, &job).ok()) << get.out;
  EXPECT_EQ(job.last_verification().stray(), 1u);
  EXPECT_EQ(job.last_verification().problems(0).target(), "a");
  Result human = Ctl({"get", "v"});
  EXPECT_THAT(human.out, HasSubstr("\n  verified: DONE, 100 keys, missing 0, stray 1, different "
                                   "0, unsettled 0\n"));

  // The rest of the README's path: cut over (a is promoted, b is not
  // managed), then verify again: clean once the stray key is gone.
  ASSERT_TRUE(a_client.CheckedCommand({"DEL", "7"}).ok());
  Result cutover = Ctl({"cutover", "v", "--promote", "--max-write-pause", "5s"});
  ASSERT_EQ(cutover.exit_code, 0) << cutover.err << cutover.out;
  EXPECT_THAT(cutover.out, StartsWith("step 1 lag: every target within 1048576 bytes of source "
                                      "offset "));
  EXPECT_THAT(cutover.out, HasSubstr("\nstep 2 pause: CLIENT PAUSE 5000 WRITE; final source "
                                     "offset "));
  EXPECT_THAT(cutover.out, HasSubstr("\nstep 4 promote: REPLICAOF NO ONE, role:master on 'a'; "
                                     "not managed (promote them yourself): 'b'\n"));
  EXPECT_THAT(cutover.out, HasSubstr("\nstep 5 unpause: CLIENT UNPAUSE; write pause "));
  EXPECT_THAT(cutover.out, HasSubstr("\ntarget a: 50 keys (db0=50), applied "));
  EXPECT_THAT(cutover.out, HasSubstr("\ntarget b: not managed (no key count; promote it "
                                     "yourself), applied "));
  EXPECT_EQ(*a_client.InfoField("replication", "role"), "master");
  Result done = Ctl({"get", "v"});
  EXPECT_THAT(done.out, HasSubstr("\n  cutover:  DONE: write pause "));
  Result again = Ctl({"cutover", "v"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err,
            "reshardctl: FAILED_PRECONDITION: job v is DONE; only a STREAMING job can be cut "
            "over\n");
  Result after = Ctl({"verify", "v", "--target", target_b});
  EXPECT_EQ(after.exit_code, 0) << after.err << after.out;
  EXPECT_THAT(after.out, StartsWith("verification of job v: OK, no problems in 100 keys (full, "));
  EXPECT_EQ(Ctl({"delete", "v"}).exit_code, 0);
}

}  // namespace
}  // namespace reshard::client
