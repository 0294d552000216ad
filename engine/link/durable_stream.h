#pragma once

// DurableStream: the on-disk side of one target's stream, for its
// TargetMaster: the StreamLog, the offset up to which the job has durably
// recorded the stream (bytes past it are not sent, so no replica ever holds
// bytes a restart of reshardd would not know of), and the replay of logged
// bytes to a replica that continued from an offset older than the in-memory
// backlog. A write to the log that fails drops the log (error() says why):
// the stream goes on; only a restart will not continue it. Disabled (every
// call a no-op) when the options have no directory. Single-threaded.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/link/stream_log.h"

namespace reshard::engine {

class DurableStream {
 public:
  explicit DurableStream(StreamLog::Options options) : options_(std::move(options)) {}

  bool enabled() const { return !options_.dir.empty(); }
  // Logging: on, and no write failed since the log was started.
  bool logging() const { return log_ != nullptr; }

  // A new log whose next byte is offset end_offset + 1 (what a previous log
  // of the same name left is deleted).
  absl::Status Start(uint64_t end_offset);
  // The log a previous reshardd left, cut to end at `end_offset`; that much
  // is recorded.
  absl::Status Restore(uint64_t end_offset);
  // Appends stream bytes, then deletes log segments before `retain_from`.
  void Append(std::string_view bytes, uint64_t retain_from);
  // The stream has a gap (the target needs a full resync): the log starts
  // again at `end_offset`, no record holds bytes back, no replay.
  void Reset(uint64_t end_offset);

  // The stream is recorded up to `offset` (UINT64_MAX: no limit).
  void set_recorded_end(uint64_t offset) { recorded_end_ = offset; }
  uint64_t recorded_end() const { return recorded_end_; }

  // Whether the log holds offsets [from, to].
  bool Holds(uint64_t from, uint64_t to) const;
  // Logged bytes [from, to] go to the replica before anything else.
  void StartReplay(uint64_t from, uint64_t to);
  void StopReplay() { replay_next_ = 1, replay_end_ = 0; }
  bool replaying() const { return replay_next_ <= replay_end_; }
  uint64_t replay_next() const { return replay_next_; }
  // The next bytes of the replay (at most `max`), consumed: valid until the
  // next call. Errors name the log's file.
  absl::StatusOr<std::string_view> NextReplayBytes(size_t max);

  StreamLog* log() { return log_.get(); }
  const std::string& error() const { return error_; }

 private:
  void Drop(const absl::Status& why);

  const StreamLog::Options options_;
  std::unique_ptr<StreamLog> log_;
  std::string error_;
  uint64_t recorded_end_ = UINT64_MAX;
  uint64_t replay_next_ = 1;
  uint64_t replay_end_ = 0;
};

}  // namespace reshard::engine
