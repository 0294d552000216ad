#pragma once

// SourcePause: the write pause of a cutover, on a side connection to the
// source opened beforehand (nothing has to connect while writes wait).
//
// Pause() sends, in one MULTI/EXEC, `CLIENT PAUSE <timeout> WRITE` and
// `INFO replication`, so the source's master_repl_offset it returns is the
// one at the instant writes stopped. A source older than Redis 6.2 has no
// WRITE mode: it gets `CLIENT PAUSE <timeout>`, which holds every client,
// reads too (and this connection: hence the MULTI), and has no CLIENT
// UNPAUSE either, so its pause always lasts the whole timeout. The timeout
// is the bound: the source unpauses itself after it even if reshardd dies.
// Single-threaded, on the executor it was opened with.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/redis_connection.h"
#include "engine/rdb/rdb_version.h"

namespace reshard::engine {

class SourcePause {
 public:
  // Connects, authenticates and reads INFO server (the version decides the
  // mode). UNAVAILABLE / PERMISSION_DENIED naming the source.
  static asio::awaitable<absl::StatusOr<std::unique_ptr<SourcePause>>> Open(
      asio::any_io_executor executor, RedisEndpoint source, absl::Duration connect_timeout);
  ~SourcePause();  // releases a pause still held (ReleaseNow)

  // Pauses for `timeout` (at least 1 ms) and returns the source's
  // master_repl_offset at that instant. On an error the pause may or may not
  // be in force: call Unpause (or let it time out).
  asio::awaitable<absl::StatusOr<uint64_t>> Pause(absl::Duration timeout);
  // CLIENT UNPAUSE and its reply. FAILED_PRECONDITION when the source has no
  // UNPAUSE (the pause ends at its timeout); the connection's error else.
  asio::awaitable<absl::Status> Unpause();
  // Leaves the pause in force (for a switch of the clients): it ends at its
  // timeout or at an operator's CLIENT UNPAUSE; ReleaseNow no longer lifts it.
  void Keep() { held_ = false; }
  // Writes CLIENT UNPAUSE without waiting for the reply (a job being torn
  // down). No-op unless a pause is held and the source can unpause.
  void ReleaseNow();

  // "WRITE", or "ALL" on a source older than Redis 6.2.
  std::string_view mode() const { return write_only_ ? "WRITE" : "ALL"; }
  bool can_unpause() const { return write_only_; }
  bool held() const { return held_; }
  const ServerVersion& version() const { return version_; }

 private:
  SourcePause(std::unique_ptr<RedisConnection> connection, ServerVersion version);

  std::unique_ptr<RedisConnection> connection_;
  ServerVersion version_;
  bool write_only_ = false;  // CLIENT PAUSE ... WRITE and CLIENT UNPAUSE exist
  bool held_ = false;
};

// True when `version` has CLIENT PAUSE ... WRITE and CLIENT UNPAUSE
// (Redis >= 6.2, every Valkey).
bool HasWritePause(const ServerVersion& version);

}  // namespace reshard::engine
