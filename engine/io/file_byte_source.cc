#include "engine/io/file_byte_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

absl::StatusOr<std::unique_ptr<FileByteSource>> FileByteSource::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::string msg = absl::StrCat("open ", path, ": ", std::strerror(errno));
    if (errno == ENOENT) return absl::NotFoundError(msg);
    if (errno == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  return std::unique_ptr<FileByteSource>(new FileByteSource(fd, path));
}

FileByteSource::~FileByteSource() { ::close(fd_); }

asio::awaitable<absl::Status> FileByteSource::Fill(size_t n) {
  if (Available().size() >= n) co_return absl::OkStatus();
  Compact();
  size_t have = buffer_.size();
  size_t want = std::max(n, have + kReadBlock);
  buffer_.resize(want);
  while (have < n) {
    ssize_t got = ::read(fd_, buffer_.data() + have, want - have);
    if (got < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      buffer_.resize(have);
      co_return absl::InternalError(absl::StrCat("read ", path_, ": ", std::strerror(err)));
    }
    if (got == 0) {
      buffer_.resize(have);
      co_return absl::DataLossError(
          absl::StrCat("truncated: needed ", n, " bytes, file ", path_, " has ", have, " left"));
    }
    have += static_cast<size_t>(got);
  }
  buffer_.resize(have);
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
