#pragma once

// StreamLog: one target's replication stream on disk, in the target's own
// offset space (the offsets of its Backlog: the byte at offset o, 1-based as
// in PSYNC), so that after reshardd restarts the target can continue with
// PSYNC <replid> <offset> from what was logged, and a replica further behind
// than the in-memory backlog can continue from disk. Segment files
// "<dir>/<name>.<offset of their first byte, 20 digits>.log"; the owner
// deletes the segments it no longer needs (DropBefore). A byte is written
// (write(2)) before it is sent anywhere; durability across a crash of the
// machine follows the fsync policy. Single-threaded; files are kept when the
// log is destroyed (Remove deletes them).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/append_file.h"
#include "engine/io/file_syncer.h"
#include "engine/io/fsync_policy.h"

namespace reshard::engine {

class StreamLog {
 public:
  struct Options {
    std::string dir;   // created if missing
    std::string name;  // file name prefix, unique in `dir`
    uint64_t segment_bytes = 4 << 20;
    FsyncPolicy fsync = FsyncPolicy::kEverySec;
    // Syncs finished segments (kEverySec); null: they are synced at once.
    FileSyncer* syncer = nullptr;
  };

  // A new, empty log whose first byte will be offset end_offset + 1; the
  // segments of `name` a previous log left are deleted.
  static absl::StatusOr<std::unique_ptr<StreamLog>> Create(Options options, uint64_t end_offset);
  // The log a previous process left under `name`, cut to end at
  // `end_offset`: what it holds of the offsets up to there, contiguously
  // (possibly nothing: start_offset() then is end_offset + 1). Errors only
  // for files that cannot be listed, opened or cut (naming them).
  static absl::StatusOr<std::unique_ptr<StreamLog>> Open(Options options, uint64_t end_offset);
  StreamLog(const StreamLog&) = delete;
  StreamLog& operator=(const StreamLog&) = delete;

  // Appends stream bytes (offsets end_offset() + 1 ...). On an error (e.g.
  // ENOSPC, naming the file) the log must be Reset or dropped.
  absl::Status Append(std::string_view bytes);
  // Up to `max` bytes from offset `from`, start_offset() <= from <=
  // end_offset() (at least one byte). Valid until the next call.
  absl::StatusOr<std::string_view> Read(uint64_t from, size_t max);
  // Empties the log (deleting its segments): the next byte appended is
  // offset end_offset + 1.
  absl::Status Reset(uint64_t end_offset);
  // Deletes the finished segments whose bytes all lie before `offset`.
  void DropBefore(uint64_t offset);
  // Deletes every segment; the log is empty at its end offset.
  void Remove();
  // fdatasync of what was appended since the last sync, now (kAlways, and
  // before a clean stop) or on the syncer (once a second under kEverySec).
  absl::Status Sync();
  void SyncSoon();

  // First offset held; end_offset() + 1 when empty.
  uint64_t start_offset() const;
  // Offset of the last byte appended.
  uint64_t end_offset() const;
  uint64_t disk_bytes() const;
  size_t segments() const { return segments_.size(); }

 private:
  struct Segment {
    uint64_t first = 0;  // offset of its first byte
    std::unique_ptr<AppendFile> file;
    uint64_t end() const { return first + file->size() - 1; }  // last byte (first - 1: empty)
  };
  explicit StreamLog(Options options) : options_(std::move(options)) {}
  std::string SegmentPath(uint64_t first) const;
  // The segment files of `name` in dir, by first offset.
  absl::StatusOr<std::deque<std::pair<uint64_t, std::string>>> ListSegments() const;
  absl::Status StartSegment();
  // A segment is finished: sync it per the policy.
  void FinishSegment(Segment& segment);
  void DeleteSegment(Segment& segment);

  const Options options_;
  std::deque<Segment> segments_;
  uint64_t empty_end_ = 0;  // end offset while there is no segment
  std::string read_buffer_;
};

}  // namespace reshard::engine
