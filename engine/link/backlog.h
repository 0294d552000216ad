#pragma once

// Backlog: the most recent bytes of one target's replication stream, so that a
// target that reconnects with PSYNC <replid> <offset> can continue where it
// stopped (Redis's repl_backlog, one per target). Offsets are the target's own
// offset space: the stream byte at offset o (1-based, as in PSYNC) is kept while
// end_offset() - capacity < o <= end_offset(). Memory grows with what is
// kept, up to the capacity: an idle target's backlog costs next to nothing.

#include <cstdint>
#include <string>
#include <string_view>

namespace reshard::engine {

class Backlog {
 public:
  explicit Backlog(uint64_t capacity);

  // Starts the offset space at `offset` (bytes before it are not kept).
  void Reset(uint64_t offset);
  // Appends stream bytes; the oldest bytes fall out past capacity.
  void Append(std::string_view bytes);

  // Offset of the last byte appended (the target's master_repl_offset).
  uint64_t end_offset() const { return end_offset_; }
  // True when PSYNC <offset> (the first byte the replica lacks) can continue:
  // start_offset() <= offset <= end_offset() + 1.
  bool CanContinueFrom(uint64_t psync_offset) const;
  // The bytes from `psync_offset` to the end. Requires CanContinueFrom.
  std::string CopyFrom(uint64_t psync_offset) const;

  uint64_t start_offset() const { return end_offset_ + 1 - size_; }
  uint64_t size() const { return size_; }

 private:
  // While growing, the valid bytes in order (write_pos_ 0); once it holds
  // capacity_ bytes, a ring whose oldest byte is at write_pos_.
  std::string ring_;
  uint64_t capacity_;
  uint64_t size_ = 0;        // valid bytes in the ring
  uint64_t write_pos_ = 0;   // next write index in ring_ once full
  uint64_t end_offset_ = 0;  // offset of the last byte appended
};

}  // namespace reshard::engine
