#pragma once

// RedisServer: one real redis-server (or valkey-server, or an old Redis
// build) for a test, on 127.0.0.1 and a port the test picks, in its own
// directory. Only ever signals its own PID.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/redis_client.h"

namespace reshard::testing {

// A TLS-only server: --port 0 --tls-port <port>, its certificate, the CA it
// trusts for client certificates (and for its own replication link). The
// server's readiness check (and testing::Connect) connects with `client`.
struct RedisServerTls {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool auth_clients = false;     // --tls-auth-clients yes|no
  bool tls_replication = false;  // --tls-replication yes: it replicates over TLS
  ClientTlsFiles client;         // what the test's clients present
};

struct RedisServerOptions {
  // Server binary. Empty: $RESHARD_REDIS_SERVER if set, else "redis-server"
  // on PATH. A path to valkey-server or to an old build works the same way.
  std::string binary;
  // Appended after the defaults (--port, --bind 127.0.0.1, --dir, --save "",
  // --appendonly no, --repl-diskless-sync-delay 0, --daemonize no), so they
  // can override them, e.g. {"--cluster-enabled", "yes"}.
  std::vector<std::string> extra_args;
  // Passed first (before the defaults) when set: a config file, e.g. the
  // sentinel.conf of a Sentinel (with extra_args {"--sentinel"}).
  std::string config_file;
  // 0: PickFreePort() (and retry with another port if it was taken).
  uint16_t port = 0;
  // Empty: a fresh directory under $TMPDIR (or /tmp), removed when the server
  // is destroyed unless keep_dir or $RESHARD_KEEP_TEST_DIRS is set.
  std::string dir;
  bool keep_dir = false;
  // Set: the server listens on TLS only.
  std::optional<RedisServerTls> tls;
  absl::Duration start_timeout = absl::Seconds(15);
  absl::Duration stop_timeout = absl::Seconds(10);
};

class RedisServer {
 public:
  // Forks and execs the server, then waits until it answers PING with +PONG.
  // On failure (exec error, early exit, timeout) the error holds the tail of
  // the server's log, and the process has been stopped.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  // Stops the server (as Stop()) and removes an automatic directory.
  ~RedisServer();

  // SIGTERM to pid(), waits up to stop_timeout, then SIGKILL. No-op when not
  // running.
  absl::Status Stop();
  // SIGKILL at once, as a crash would.
  absl::Status Kill();
  // Stop() then start again with the same port, directory and arguments.
  absl::Status Restart();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:<port>"
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  std::string log_path() const;  // the server's stdout and stderr
  // The TLS options it was started with; nullptr for a plain server.
  const RedisServerTls* tls() const { return options_.tls ? &*options_.tls : nullptr; }
  // A client of the server (TLS when it is a TLS server).
  absl::StatusOr<RedisClient> Client(absl::Duration timeout = absl::Seconds(10)) const;
  // The last `lines` lines of the log.
  std::string LogTail(size_t lines = 30) const;

 private:
  RedisServer(RedisServerOptions options, std::string dir, bool owns_dir);
  absl::Status Spawn();
  absl::Status WaitUntilReady();

  RedisServerOptions options_;
  std::string binary_;
  std::string dir_;
  bool owns_dir_ = false;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace reshard::testing
