#include "server/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reshard::server {
namespace {

constexpr mode_t kGroupOrOthers = S_IRWXG | S_IRWXO;

std::string Flag(std::string_view flag) { return std::string(flag); }

}  // namespace

std::string ModeText(unsigned mode) { return absl::StrFormat("%04o", mode & 07777); }

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, std::string_view flag) {
  // One descriptor for the check and the read: the file checked is the file read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    std::string message = absl::StrCat(Flag(flag), ": cannot read ", path, ": ", strerror(error));
    return error == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(Flag(flag), ": ", path, " is not a regular file"));
  }
  if ((info.st_mode & kGroupOrOthers) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(Flag(flag), ": ", path, " has mode ", ModeText(info.st_mode),
                     ": a secret must be readable by its owner only (chmod 600 ", path, ")"));
  }
  std::string contents;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat(Flag(flag), ": cannot read ", path, ": ", strerror(error)));
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

absl::StatusOr<PrivateDirChange> MakePrivateDir(const std::string& path, std::string_view flag) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat(Flag(flag), ": cannot use ", path, ": ", strerror(errno)));
    }
    std::error_code error;
    const std::filesystem::path dir(path);
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), error);
    // mkdir applies the umask, which can only take bits away from 0700.
    if (error || (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)) {
      return absl::FailedPreconditionError(absl::StrCat(Flag(flag), ": cannot create ", path, ": ",
                                                        error ? error.message() : strerror(errno)));
    }
    if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(Flag(flag), ": cannot create ", path, ": Not a directory"));
    }
    if ((info.st_mode & kGroupOrOthers) == 0) return PrivateDirChange{PrivateDirChange::kCreated};
    // Created meanwhile by someone else, with wider bits: tighten below.
  }
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(Flag(flag), ": ", path, " is not a directory"));
  }
  if ((info.st_mode & kGroupOrOthers) == 0) return PrivateDirChange{};
  if (::chmod(path.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Flag(flag), ": ", path, " has mode ", ModeText(info.st_mode),
                     " and cannot be made 0700: ", strerror(errno)));
  }
  return PrivateDirChange{PrivateDirChange::kTightened, info.st_mode & 07777u};
}

}  // namespace reshard::server
