#include "engine/io/append_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace reshard::engine {
namespace {

absl::Status ErrnoError(const char* what, const std::string& path, int error) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AppendFile>> AppendFile::Open(std::string path, bool truncate) {
  int flags = O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoError("cannot open", path, error);
  }
  return std::unique_ptr<AppendFile>(new AppendFile(fd, std::move(path), st.st_size));
}

AppendFile::~AppendFile() { ::close(fd_); }

absl::Status AppendFile::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), size_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path_, errno);
    }
    if (n == 0) return ErrnoError("cannot write", path_, ENOSPC);
    size_ += n;
    dirty_ = true;
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::Status AppendFile::Truncate(uint64_t size) {
  if (size >= size_) return absl::OkStatus();
  if (::ftruncate(fd_, size) != 0) return ErrnoError("cannot truncate", path_, errno);
  size_ = size;
  dirty_ = true;
  return absl::OkStatus();
}

absl::StatusOr<size_t> AppendFile::ReadAt(uint64_t pos, char* out, size_t n) const {
  size_t got = 0;
  while (got < n && pos + got < size_) {
    ssize_t r = ::pread(fd_, out + got, n - got, pos + got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path_, errno);
    }
    if (r == 0) break;
    got += r;
  }
  return got;
}

absl::Status AppendFile::Sync() {
  if (!dirty_) return absl::OkStatus();
  if (::fdatasync(fd_) != 0) return ErrnoError("cannot sync", path_, errno);
  dirty_ = false;
  return absl::OkStatus();
}

void AppendFile::SyncSoon(FileSyncer& syncer) {
  if (!dirty_) return;
  dirty_ = false;
  syncer.SyncSoon(fd_, path_);
}

}  // namespace reshard::engine
