#pragma once

// SourceMonitor: watches the source's own replication offset on a side
// connection, so that the job can say how far behind the source it is.
// Start() spawns a coroutine on the job's executor that connects (and
// authenticates like the upstream link), reads INFO keyspace once (the key
// count, for snapshot progress when the RDB size is unknown) and then INFO
// replication every `interval`, recording when each master_repl_offset was
// first seen, and its repl-backlog-size. On an error it closes, waits (backoff up to 5 s) and
// reconnects: it never fails anything; last_error() says what went wrong.
// Job thread only (single-threaded on the executor).

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "engine/io/endpoint.h"

namespace reshard::engine {

// Sums keys=N over the "dbN:keys=..." lines of an INFO keyspace reply
// (0 for an empty keyspace). INVALID_ARGUMENT for a db line without keys=N.
absl::StatusOr<uint64_t> ParseKeyspaceKeys(std::string_view info);
// master_repl_offset of an INFO replication reply; INVALID_ARGUMENT when the
// field is missing or not a number.
absl::StatusOr<uint64_t> ParseMasterReplOffset(std::string_view info);

// When each source offset was first seen, for SourceMonitor::SecondsBehind.
class OffsetHistory {
 public:
  // At most this many samples are kept (about an hour at one per second);
  // older ones are dropped.
  static constexpr size_t kMaxSamples = 4096;

  // Records `offset` seen at `now`. An offset below the last one (the source
  // restarted or failed over) starts the history again.
  void Record(uint64_t offset, absl::Time now);
  // How long before `now` the source's offset first passed `consumed`
  // (the first sample above it); 0 when no sample is above it.
  absl::Duration Behind(uint64_t consumed, absl::Time now) const;
  uint64_t last() const { return samples_.empty() ? 0 : samples_.back().offset; }
  // The offset's growth per second over the last `window` (or all the
  // history when shorter); nullopt until the history spans `min_span`.
  std::optional<double> BytesPerSecond(absl::Duration window, absl::Duration min_span,
                                       absl::Time now) const;

 private:
  struct Sample {
    uint64_t offset;
    absl::Time first_seen;
  };
  std::deque<Sample> samples_;
};

class SourceMonitor {
 public:
  SourceMonitor(asio::any_io_executor executor, RedisEndpoint source,
                absl::Duration interval = absl::Seconds(1));
  SourceMonitor(const SourceMonitor&) = delete;
  SourceMonitor& operator=(const SourceMonitor&) = delete;
  ~SourceMonitor();  // Close()

  // Spawns the polling coroutine; a second call does nothing.
  void Start();
  // Stops polling and closes the connection. Idempotent; the coroutine ends
  // at its next resumption without touching this object (a connect in
  // progress finishes first: at most its 5 s timeout). Destroy the monitor
  // before the executor's io_context (it cancels a timer of it).
  void Close();

  // The source's key count from INFO keyspace (read once); nullopt until read.
  std::optional<uint64_t> key_total() const;
  // The last master_repl_offset seen; 0 before the first poll.
  uint64_t master_offset() const;
  // The source's repl-backlog-size (INFO replication); nullopt before the
  // first poll.
  std::optional<uint64_t> backlog_size() const;
  // The source's role as its last INFO replication said: "master" or
  // "replica" (with whom it replicates from, and its master_link_status);
  // nullopt before the first poll.
  struct Role {
    std::string role;                // "master" or "replica"
    std::string master_address;      // a replica's master, "host:port"
    std::string master_link_status;  // a replica's link: "up" or "down"
  };
  std::optional<Role> role() const;
  // Bytes the source writes to its replication stream per second, over the
  // last `window`; nullopt until 5 s of polls.
  std::optional<double> WriteRate(absl::Duration window) const;
  // How long ago the source's offset first passed `consumed_offset`, to the
  // poll interval; 0 when the job is caught up (or nothing was polled yet).
  double SecondsBehind(uint64_t consumed_offset) const;
  // OK while polling works; else why the last attempt failed ("source
  // 127.0.0.1:7000 ...").
  absl::Status last_error() const;
  // Successful INFO replication polls so far.
  uint64_t polls() const;

  struct State;  // shared with the coroutine (source_monitor.cc)

 private:
  std::shared_ptr<State> state_;
  bool started_ = false;
};

}  // namespace reshard::engine
