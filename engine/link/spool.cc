#include "engine/link/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace reshard::engine {
namespace {

constexpr size_t kMaxRead = 1 << 20;
// What a drained spool keeps of its memory buffer: enough for a steady
// stream of small writes; a burst's (or a snapshot's) buffer is given back.
constexpr size_t kKeepWhenDrained = 64 << 10;

absl::Status FileError(const char* what, const std::string& path, int error) {
  return absl::ResourceExhaustedError(
      absl::StrCat("spool file ", path, ": ", what, ": ", std::strerror(error)));
}

}  // namespace

Spool::Spool(Options options) : options_(std::move(options)) {}

Spool::~Spool() { Clear(); }

absl::Status Spool::Push(std::string_view bytes) {
  if (bytes.empty()) return absl::OkStatus();
  if (segments_.empty() && memory_.size() - memory_pos_ + bytes.size() <= options_.memory_bytes) {
    if (memory_pos_ > 0 && memory_pos_ >= memory_.size() / 2) {
      memory_.erase(0, memory_pos_);
      memory_pos_ = 0;
    }
    memory_.append(bytes.data(), bytes.size());
    pushed_ += bytes.size();
    return absl::OkStatus();
  }
  absl::Status status = PushToDisk(bytes);
  if (status.ok()) pushed_ += bytes.size();
  return status;
}

absl::Status Spool::OpenSegment() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  Segment segment;
  segment.path = absl::StrCat(options_.dir, "/", options_.name, ".", next_segment_++, ".spool");
  segment.fd = ::open(segment.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (segment.fd < 0) return FileError("cannot create", segment.path, errno);
  segments_.push_back(std::move(segment));
  return absl::OkStatus();
}

absl::Status Spool::PushToDisk(std::string_view bytes) {
  while (!bytes.empty()) {
    if (segments_.empty() || segments_.back().write_pos >= options_.segment_bytes) {
      if (absl::Status opened = OpenSegment(); !opened.ok()) return opened;
    }
    Segment& segment = segments_.back();
    size_t n = std::min<uint64_t>(bytes.size(), options_.segment_bytes - segment.write_pos);
    n = std::max<size_t>(n, 1);
    ssize_t written = ::pwrite(segment.fd, bytes.data(), n, segment.write_pos);
    if (written < 0) {
      if (errno == EINTR) continue;
      return FileError("write failed", segment.path, errno);
    }
    if (written == 0) return FileError("write failed", segment.path, ENOSPC);
    segment.write_pos += written;
    disk_bytes_ += written;
    bytes.remove_prefix(written);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> Spool::Front(size_t max) {
  if (memory_pos_ < memory_.size()) {
    return std::string_view(memory_).substr(memory_pos_, max);
  }
  if (segments_.empty()) return std::string_view();
  Segment& segment = segments_.front();
  size_t n = std::min<uint64_t>({max, kMaxRead, segment.write_pos - segment.read_pos});
  read_buffer_.resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(segment.fd, read_buffer_.data() + got, n - got, segment.read_pos + got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return FileError("read failed", segment.path, r < 0 ? errno : EIO);
    got += r;
  }
  return std::string_view(read_buffer_);
}

void Spool::Pop(uint64_t n) {
  uint64_t in_memory = std::min<uint64_t>(n, memory_.size() - memory_pos_);
  memory_pos_ += in_memory;
  n -= in_memory;
  if (memory_pos_ == memory_.size()) {
    memory_.clear();
    memory_pos_ = 0;
    // A burst's buffer is not kept once the spool is quiet.
    if (memory_.capacity() > kKeepWhenDrained) std::string().swap(memory_);
  }
  while (n > 0 && !segments_.empty()) {
    Segment& segment = segments_.front();
    uint64_t take = std::min(n, segment.write_pos - segment.read_pos);
    segment.read_pos += take;
    disk_bytes_ -= take;
    n -= take;
    if (segment.read_pos == segment.write_pos) {
      CloseSegment(segment);
      segments_.pop_front();
    }
  }
  if (read_buffer_.capacity() > kMaxRead || (disk_bytes_ == 0 && !read_buffer_.empty())) {
    std::string().swap(read_buffer_);
  }
}

void Spool::CloseSegment(Segment& segment) {
  if (segment.fd >= 0) ::close(segment.fd);
  segment.fd = -1;
  ::unlink(segment.path.c_str());
}

void Spool::Clear() {
  std::string().swap(memory_);
  memory_pos_ = 0;
  for (Segment& segment : segments_) CloseSegment(segment);
  segments_.clear();
  disk_bytes_ = 0;
  std::string().swap(read_buffer_);
}

}  // namespace reshard::engine
