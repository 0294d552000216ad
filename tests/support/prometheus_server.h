#pragma once

// PrometheusServer: Debian's `prometheus` for a test, on a loopback port the
// test picks, with a data directory of its own, stopped by PID; and a small
// HTTP client for its API. Its first scrape comes about 5 s after start (a
// fixed target-reload delay): wait for data with a generous deadline.

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"

namespace reshard::testing {

// GET http://127.0.0.1:`port``path_and_query` (HTTP/1.0); the body of a 200
// answer, else an error with the status line and the body.
absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& path_and_query,
                                    absl::Duration timeout = absl::Seconds(10));

// `text` percent-encoded for a URL's query.
std::string UrlEncode(const std::string& text);

class PrometheusServer {
 public:
  // Writes `config_yaml` as prometheus.yml in a fresh directory, starts
  // `prometheus` (the binary on PATH) there and waits until /-/ready answers.
  // Rule files should be named by absolute path. On failure the error holds
  // the tail of its log.
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(
      const std::string& config_yaml, absl::Duration start_timeout = absl::Seconds(30));
  ~PrometheusServer();  // SIGTERM by PID, SIGKILL after 10 s
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_.path(); }
  std::string Log() const;

  // /api/v1/query?query=`expr`: the JSON answer.
  absl::StatusOr<std::string> Query(const std::string& expr) const;
  // /api/v1/alerts: the JSON answer.
  absl::StatusOr<std::string> Alerts() const;

 private:
  PrometheusServer() : dir_("prometheus") {}
  void Stop();

  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace reshard::testing
