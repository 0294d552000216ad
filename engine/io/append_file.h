#pragma once

// AppendFile: a file that is only ever written at its end (a segment of a
// target's stream log, the job journal), read back with pread. Bytes are in
// the operating system once Append returns (a crash of the process loses
// nothing); Sync / SyncSoon make them durable across a crash of the machine
// (see fsync_policy.h). Single-threaded; closes its descriptor when
// destroyed, never deletes its file.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/file_syncer.h"

namespace reshard::engine {

class AppendFile {
 public:
  // Opens `path` for appending at its end, creating it (mode 0600) when
  // missing; `truncate` empties it first. INTERNAL "cannot open <path>: ...".
  static absl::StatusOr<std::unique_ptr<AppendFile>> Open(std::string path, bool truncate);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  // Writes every byte at the end. INTERNAL "cannot write <path>: ..." (e.g.
  // ENOSPC); a part may then have been written: size() says how much.
  absl::Status Append(std::string_view bytes);
  // Cuts the file to `size` bytes (<= size()).
  absl::Status Truncate(uint64_t size);
  // Reads up to `n` bytes at `pos` into `out` (fewer only at the end).
  absl::StatusOr<size_t> ReadAt(uint64_t pos, char* out, size_t n) const;
  // fdatasync now, when something was appended since the last sync. INTERNAL "cannot sync <path>:
  // ...".
  absl::Status Sync();
  // Queues an fdatasync on `syncer` when something was appended since the
  // last one.
  void SyncSoon(FileSyncer& syncer);

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  AppendFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}

  int fd_;
  std::string path_;
  uint64_t size_;
  bool dirty_ = false;  // appended since the last sync
};

}  // namespace reshard::engine
