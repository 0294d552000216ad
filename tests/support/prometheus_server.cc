#include "tests/support/prometheus_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/support/free_port.h"

namespace reshard::testing {

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& path_and_query,
                                    absl::Duration timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  timeval tv = absl::ToTimeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
  }
  const std::string request =
      absl::StrCat("GET ", path_and_query, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return absl::UnavailableError("cannot send the request");
  }
  std::string response;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      ::close(fd);
      return absl::DeadlineExceededError(absl::StrCat("no full answer to GET ", path_and_query));
    }
    response.append(buffer, n);
  }
  ::close(fd);
  const size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos) return absl::DataLossError("no HTTP header end");
  const std::string status_line = response.substr(0, response.find("\r\n"));
  std::string body = response.substr(header_end + 4);
  if (status_line.find(" 200 ") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", path_and_query, ": ", status_line, ": ", body));
  }
  return body;
}

absl::StatusOr<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::string& config_yaml, absl::Duration start_timeout) {
  std::unique_ptr<PrometheusServer> server(new PrometheusServer());
  if (server->dir().empty()) return absl::InternalError("cannot create a temp dir");
  std::ofstream(server->dir_ / "prometheus.yml") << config_yaml;
  server->port_ = PickFreePort();
  const std::vector<std::string> args = {
      "prometheus", "--config.file=" + (server->dir_ / "prometheus.yml"),
      "--storage.tsdb.path=" + (server->dir_ / "data"),
      absl::StrCat("--web.listen-address=127.0.0.1:", server->port_), "--log.level=warn"};
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const std::string log = server->dir_ / "prometheus.log";
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Run from its directory: the relative paths of the config are there.
    if (::chdir(server->dir().c_str()) != 0) ::_exit(126);  // its data/ and logs stay there
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) return absl::InternalError("fork failed");
  server->pid_ = pid;
  const absl::Time deadline = absl::Now() + start_timeout;
  while (absl::Now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
      server->pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("prometheus exited at start (status ", wstatus, "): ", server->Log()));
    }
    if (HttpGet(server->port_, "/-/ready", absl::Seconds(2)).ok()) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "prometheus not ready within ", absl::FormatDuration(start_timeout), ": ", server->Log()));
}

PrometheusServer::~PrometheusServer() { Stop(); }

void PrometheusServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string PrometheusServer::Log() const {
  std::ifstream in(dir_ / "prometheus.log");
  std::stringstream text;
  text << in.rdbuf();
  std::string log = text.str();
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

absl::StatusOr<std::string> PrometheusServer::Query(const std::string& expr) const {
  return HttpGet(port_, "/api/v1/query?query=" + UrlEncode(expr));
}

absl::StatusOr<std::string> PrometheusServer::Alerts() const {
  return HttpGet(port_, "/api/v1/alerts");
}

}  // namespace reshard::testing
