#include "server/state_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reshard::server {

absl::StatusOr<std::unique_ptr<StateDirLock>> StateDirLock::Acquire(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/LOCK");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("--state_dir: cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    char text[32] = {0};
    ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return absl::InternalError(
          absl::StrCat("--state_dir: cannot lock ", path, ": ", std::strerror(error)));
    }
    std::string pid = n > 0 ? std::string(absl::StripAsciiWhitespace(std::string(text, n))) : "";
    return absl::FailedPreconditionError(absl::StrCat(
        "--state_dir ", dir, " is in use by another reshardd (PID ", pid.empty() ? "unknown" : pid,
        ", holding ", path, "): two processes must not drive the same jobs"));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without it; only the message of a second reshardd suffers.
  }
  return std::unique_ptr<StateDirLock>(new StateDirLock(fd));
}

StateDirLock::~StateDirLock() { ::close(fd_); }

}  // namespace reshard::server
