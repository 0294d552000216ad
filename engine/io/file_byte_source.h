#pragma once

// FileByteSource: a ByteSource over a file (offline splitting, tests). Reads
// ahead in blocks; memory stays around kReadBlock + the largest Fill().

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/io/byte_source.h"

namespace reshard::engine {

class FileByteSource : public ByteSource {
 public:
  static constexpr size_t kReadBlock = 256 * 1024;

  // NOT_FOUND / PERMISSION_DENIED / INTERNAL naming the path and errno.
  static absl::StatusOr<std::unique_ptr<FileByteSource>> Open(const std::string& path);
  ~FileByteSource() override;

  // DATA_LOSS "truncated ..." at end of file; INTERNAL on a read error.
  asio::awaitable<absl::Status> Fill(size_t n) override;

 private:
  FileByteSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace reshard::engine
