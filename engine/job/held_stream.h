#pragma once

// HeldStream: one target's share of the source's stream while that target
// waits for a snapshot of its own (a per-target full resync). The job holds
// it from the moment it asks the source for that snapshot; when the source
// answers +FULLRESYNC <replid> <offset>, what is at or before that offset is
// already in the snapshot and is dropped; the rest is sent after the
// snapshot. The bytes wait in a Spool (memory, then disk). Single-threaded.

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "engine/link/spool.h"

namespace reshard::engine {

class HeldStream {
 public:
  explicit HeldStream(Spool::Options spool) : bytes_(std::move(spool)) {}

  // The target's bytes for the command that ends at source offset `source_end`.
  absl::Status Add(uint64_t source_end, std::string_view bytes);
  // The snapshot is the source at `offset`: drops what it contains.
  void SetSnapshotOffset(uint64_t offset);
  // Whether the command starting at `source_start` must begin with SELECT:
  // it may be the first one kept, and the target starts its new stream in an
  // unknown db. Until a command's bytes are kept past the snapshot offset,
  // every one may be the first: a SELECT or a PING of the source's stream
  // (never held) can lie between the snapshot offset and the first kept
  // command, and a SELECT sent with a dropped one never reaches the target.
  bool NeedsSelect(uint64_t source_start) const {
    return !snapshot_offset_.has_value() || source_start <= *snapshot_offset_ || !kept_;
  }
  std::optional<uint64_t> snapshot_offset() const { return snapshot_offset_; }
  // The source offset the held bytes reach (the last Add), or nullopt.
  std::optional<uint64_t> last_source_end() const { return last_source_end_; }
  Spool& bytes() { return bytes_; }

 private:
  Spool bytes_;
  // (source_end, bytes_.pushed() after it), for the drop at the snapshot offset.
  std::deque<std::pair<uint64_t, uint64_t>> marks_;
  std::optional<uint64_t> snapshot_offset_;
  std::optional<uint64_t> last_source_end_;
  bool kept_ = false;  // bytes past the snapshot offset were kept
};

}  // namespace reshard::engine
