#include "tests/support/redis_server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_client.h"

namespace reshard::testing {
namespace {

constexpr int kPortAttempts = 5;

std::string DefaultBinary() {
  if (const char* env = std::getenv("RESHARD_REDIS_SERVER"); env != nullptr && env[0] != '\0') {
    return env;
  }
  return "redis-server";
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp", "/reshard-redis-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  return pattern;
}

bool KeepDirs() {
  const char* env = std::getenv("RESHARD_KEEP_TEST_DIRS");
  return env != nullptr && env[0] != '\0' && std::string(env) != "0";
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  std::string dir = options.dir;
  const bool owns_dir = dir.empty();
  if (owns_dir) {
    absl::StatusOr<std::string> made = MakeTempDir();
    if (!made.ok()) return made.status();
    dir = *made;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
  }
  const bool pick_port = options.port == 0;
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(options), dir, owns_dir));
  absl::Status status;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    server->port_ = pick_port ? PickFreePort() : server->options_.port;
    status = server->Spawn();
    if (status.ok()) status = server->WaitUntilReady();
    if (status.ok()) return server;
    const bool port_taken = server->LogTail(50).find("in use") != std::string::npos;
    server->Stop().IgnoreError();
    if (!pick_port || !port_taken) break;  // Only a lost race for the port is worth a retry.
  }
  return status;
}

RedisServer::RedisServer(RedisServerOptions options, std::string dir, bool owns_dir)
    : options_(std::move(options)),
      binary_(options_.binary.empty() ? DefaultBinary() : options_.binary),
      dir_(std::move(dir)),
      owns_dir_(owns_dir) {}

RedisServer::~RedisServer() {
  Stop().IgnoreError();
  if (owns_dir_ && !options_.keep_dir && !KeepDirs()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::StatusOr<RedisClient> RedisServer::Client(absl::Duration timeout) const {
  if (options_.tls.has_value()) {
    return RedisClient::ConnectTls("127.0.0.1", port_, options_.tls->client, timeout);
  }
  return RedisClient::Connect("127.0.0.1", port_, timeout);
}

std::string RedisServer::log_path() const { return dir_ + "/redis.log"; }

std::string RedisServer::LogTail(size_t lines) const {
  std::ifstream in(log_path());
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  return absl::StrJoin(tail, "\n");
}

absl::Status RedisServer::Spawn() {
  std::vector<std::string> args = {binary_,
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--repl-diskless-sync-delay",
                                   "0",
                                   "--daemonize",
                                   "no"};
  if (options_.tls.has_value()) {
    const RedisServerTls& tls = *options_.tls;
    std::vector<std::string> tls_args = {"--port",
                                         "0",
                                         "--tls-port",
                                         std::to_string(port_),
                                         "--tls-cert-file",
                                         tls.cert_file,
                                         "--tls-key-file",
                                         tls.key_file,
                                         "--tls-ca-cert-file",
                                         tls.ca_file,
                                         "--tls-auth-clients",
                                         tls.auth_clients ? "yes" : "no",
                                         "--tls-replication",
                                         tls.tls_replication ? "yes" : "no"};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
  }
  if (!options_.config_file.empty()) args.insert(args.begin() + 1, options_.config_file);
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // Everything the child needs is prepared before fork(): after it only
  // async-signal-safe calls are allowed (the test may have threads).
  const int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("open ", log_path(), ": ", std::strerror(errno)));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const std::string start_line =
      absl::StrCat("### reshard test: starting ", absl::StrJoin(args, " "), "\n");
  if (::write(log_fd, start_line.data(), start_line.size()) < 0) {
    // The log is only for diagnostics; carry on.
  }
  const bool has_slash = binary_.find('/') != std::string::npos;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // The server must not outlive a test binary that crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (has_slash) {
      ::execv(argv[0], argv.data());
    } else {
      ::execvp(argv[0], argv.data());
    }
    static constexpr char kExecFailed[] = "### reshard test: exec failed\n";
    if (::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1) < 0) {
    }
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status RedisServer::WaitUntilReady() {
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  std::string last_error = "no answer yet";
  while (absl::Now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(binary_, " on port ", port_, " exited (status ",
                                                 wstatus, ") before answering PING; log ",
                                                 log_path(), ":\n", LogTail()));
    }
    absl::StatusOr<RedisClient> client = Client(absl::Seconds(2));
    if (client.ok()) {
      absl::StatusOr<RespValue> pong = client->Command({"PING"});
      if (pong.ok() && pong->IsString("PONG")) return absl::OkStatus();
      // A server started with --requirepass answers, but only to AUTH.
      if (pong.ok() && pong->IsError() && absl::StartsWith(pong->str, "NOAUTH")) {
        return absl::OkStatus();
      }
      last_error = pong.ok() ? pong->ToString() : pong.status().ToString();  // e.g. -LOADING
    } else {
      last_error = client.status().ToString();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(binary_, " on port ", port_, " did not answer PING within ",
                   absl::FormatDuration(options_.start_timeout), " (last: ", last_error, "); log ",
                   log_path(), ":\n", LogTail()));
}

absl::Status RedisServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + options_.stop_timeout;
  while (absl::Now() < deadline) {
    const pid_t done = ::waitpid(pid_, nullptr, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      pid_ = -1;
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  const pid_t pid = std::exchange(pid_, -1);
  return absl::DeadlineExceededError(absl::StrCat(binary_, " (pid ", pid, ") ignored SIGTERM for ",
                                                  absl::FormatDuration(options_.stop_timeout),
                                                  "; killed"));
}

absl::Status RedisServer::Kill() {
  if (pid_ <= 0) return absl::OkStatus();
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  if (absl::Status status = Stop(); !status.ok()) return status;
  if (absl::Status status = Spawn(); !status.ok()) return status;
  absl::Status status = WaitUntilReady();
  if (!status.ok()) Stop().IgnoreError();
  return status;
}

}  // namespace reshard::testing
