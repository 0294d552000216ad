#pragma once

// Spool: a FIFO of bytes that keeps up to `memory_bytes` in memory and the
// rest in segment files on disk, so whatever waits for a slow, stopped or
// paused target costs bounded memory. Bytes go to memory while no segment
// exists; once memory is full they go to files until the files are drained,
// so the order is always memory, then files. Drained segment files are
// deleted. Single-threaded.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reshard::engine {

class Spool {
 public:
  struct Options {
    std::string dir;   // where segment files go (created if missing)
    std::string name;  // file name prefix, e.g. "job1-a"
    uint64_t memory_bytes = 4 << 20;
    uint64_t segment_bytes = 64 << 20;
  };
  explicit Spool(Options options);
  ~Spool();  // deletes its files
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends. A failed file write (e.g. ENOSPC) returns the error naming the
  // file; the bytes are then not queued and the spool must be cleared.
  absl::Status Push(std::string_view bytes);
  // Up to `max` bytes from the front (at least one byte when not empty).
  // Valid until the next call on the spool. Reading a file can fail.
  absl::StatusOr<std::string_view> Front(size_t max);
  // Drops `n` bytes from the front (n <= size()).
  void Pop(uint64_t n);
  // Drops everything and deletes the files.
  void Clear();

  uint64_t size() const { return memory_.size() - memory_pos_ + disk_bytes(); }
  bool empty() const { return size() == 0; }
  uint64_t disk_bytes() const { return disk_bytes_; }
  // Bytes ever pushed / popped: positions in the spool's byte sequence.
  uint64_t pushed() const { return pushed_; }
  uint64_t popped() const { return pushed_ - size(); }

 private:
  struct Segment {
    std::string path;
    int fd = -1;
    uint64_t read_pos = 0;
    uint64_t write_pos = 0;
  };
  absl::Status PushToDisk(std::string_view bytes);
  absl::Status OpenSegment();
  void CloseSegment(Segment& segment);

  const Options options_;
  std::string memory_;
  size_t memory_pos_ = 0;  // memory_ before this was popped
  std::deque<Segment> segments_;
  uint64_t disk_bytes_ = 0;
  uint64_t pushed_ = 0;
  uint64_t next_segment_ = 0;
  std::string read_buffer_;
};

}  // namespace reshard::engine
