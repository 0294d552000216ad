#pragma once

// OffsetMap: which source offset a target's own offset stands for, so that a
// target's REPLCONF ACK can be read as "applied the source up to here" (the
// job's end-to-end acknowledgement). The job records (source offset, target
// offset) after it appended the target's share of the source's stream up to
// that source offset; a target that acknowledged target offset t has applied
// the source up to the largest recorded source offset whose target offset is
// <= t. Conservative when entries are merged. Single-threaded.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace reshard::engine {

class OffsetMap {
 public:
  // Starts afresh: target offset `target` is the source at `source` (the
  // point its snapshot was taken).
  void Reset(uint64_t source, uint64_t target);
  // The target's stream up to `target` covers the source up to `source`.
  // Both never decrease between Resets.
  void Record(uint64_t source, uint64_t target);
  // The source offset a target that acknowledged `target_acked` has applied;
  // 0 when nothing was recorded at or below it. Forgets entries it no longer
  // needs (acknowledgements never go back).
  uint64_t SourceOffsetFor(uint64_t target_acked);
  size_t size() const { return entries_.size(); }

  static constexpr size_t kMaxEntries = 4096;

 private:
  std::deque<std::pair<uint64_t, uint64_t>> entries_;  // (source, target), both increasing
};

}  // namespace reshard::engine
