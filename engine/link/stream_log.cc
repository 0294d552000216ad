#include "engine/link/stream_log.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/io/atomic_file.h"

namespace reshard::engine {
namespace {

constexpr size_t kMaxRead = 1 << 20;
constexpr std::string_view kSuffix = ".log";

}  // namespace

std::string StreamLog::SegmentPath(uint64_t first) const {
  return absl::StrFormat("%s/%s.%020u.log", options_.dir, options_.name, first);
}

absl::StatusOr<std::deque<std::pair<uint64_t, std::string>>> StreamLog::ListSegments() const {
  std::deque<std::pair<uint64_t, std::string>> found;
  std::error_code error;
  std::filesystem::create_directories(options_.dir, error);
  const std::string prefix = options_.name + ".";
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, error)) {
    std::string file = entry.path().filename().string();
    if (!absl::StartsWith(file, prefix) || !absl::EndsWith(file, AsAbsl(kSuffix))) continue;
    std::string digits = file.substr(prefix.size(), file.size() - prefix.size() - kSuffix.size());
    uint64_t first = 0;
    if (digits.size() != 20 || !absl::SimpleAtoi(digits, &first)) continue;
    found.emplace_back(first, entry.path().string());
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot list stream log ", options_.dir, ": ", error.message()));
  }
  std::sort(found.begin(), found.end());
  return found;
}

absl::StatusOr<std::unique_ptr<StreamLog>> StreamLog::Create(Options options, uint64_t end_offset) {
  std::unique_ptr<StreamLog> log(new StreamLog(std::move(options)));
  ASSIGN_OR_RETURN(auto found, log->ListSegments());
  for (const auto& [first, path] : found) std::remove(path.c_str());
  log->empty_end_ = end_offset;
  return log;
}

absl::StatusOr<std::unique_ptr<StreamLog>> StreamLog::Open(Options options, uint64_t end_offset) {
  std::unique_ptr<StreamLog> log(new StreamLog(std::move(options)));
  log->empty_end_ = end_offset;
  ASSIGN_OR_RETURN(auto found, log->ListSegments());
  for (const auto& [first, path] : found) {
    if (first > end_offset) {
      std::remove(path.c_str());  // entirely past the end: bytes not recorded
      continue;
    }
    ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> file, AppendFile::Open(path, false));
    Segment segment{first, std::move(file)};
    // Only a contiguous run of segments is a stream: after a gap, what came
    // before it is useless.
    if (!log->segments_.empty() && log->segments_.back().end() + 1 != first) {
      for (Segment& old : log->segments_) log->DeleteSegment(old);
      log->segments_.clear();
    }
    log->segments_.push_back(std::move(segment));
  }
  if (!log->segments_.empty()) {
    Segment& last = log->segments_.back();
    if (last.end() < end_offset) {
      // The tail the record counts was lost (a crash of the machine before
      // it was synced): what is left cannot be continued at end_offset + 1.
      for (Segment& old : log->segments_) log->DeleteSegment(old);
      log->segments_.clear();
    } else if (last.end() > end_offset) {
      RETURN_IF_ERROR(last.file->Truncate(end_offset + 1 - last.first));
      RETURN_IF_ERROR(last.file->Sync());
    }
  }
  return log;
}

absl::Status StreamLog::StartSegment() {
  uint64_t first = end_offset() + 1;
  ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> file, AppendFile::Open(SegmentPath(first), true));
  segments_.push_back(Segment{first, std::move(file)});
  // The new file's name must survive a crash too.
  if (options_.fsync == FsyncPolicy::kAlways) {
    RETURN_IF_ERROR(SyncDirectory(options_.dir));
  } else if (options_.fsync == FsyncPolicy::kEverySec && options_.syncer != nullptr) {
    options_.syncer->SyncDirectorySoon(options_.dir);
  }
  return absl::OkStatus();
}

void StreamLog::FinishSegment(Segment& segment) {
  if (options_.fsync == FsyncPolicy::kNo) return;
  if (options_.fsync == FsyncPolicy::kEverySec && options_.syncer != nullptr) {
    segment.file->SyncSoon(*options_.syncer);
  } else {
    segment.file->Sync().IgnoreError();  // a failure shows on the next Sync of the log
  }
}

void StreamLog::DeleteSegment(Segment& segment) { std::remove(segment.file->path().c_str()); }

absl::Status StreamLog::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    if (segments_.empty() || segments_.back().file->size() >= options_.segment_bytes) {
      if (!segments_.empty()) FinishSegment(segments_.back());
      RETURN_IF_ERROR(StartSegment());
    }
    Segment& segment = segments_.back();
    size_t n = std::min<uint64_t>(bytes.size(), options_.segment_bytes - segment.file->size());
    RETURN_IF_ERROR(segment.file->Append(bytes.substr(0, n)));
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> StreamLog::Read(uint64_t from, size_t max) {
  if (from < start_offset() || from > end_offset()) {
    return absl::OutOfRangeError(absl::StrCat("stream log ", options_.name, ": offset ", from,
                                              " not held (", start_offset(), "-", end_offset(),
                                              ")"));
  }
  auto it = std::upper_bound(segments_.begin(), segments_.end(), from,
                             [](uint64_t offset, const Segment& s) { return offset < s.first; });
  const Segment& segment = *std::prev(it);
  size_t n = std::min<uint64_t>({max, kMaxRead, segment.end() - from + 1});
  read_buffer_.resize(n);
  ASSIGN_OR_RETURN(size_t got, segment.file->ReadAt(from - segment.first, read_buffer_.data(), n));
  if (got == 0) {
    return absl::DataLossError(
        absl::StrCat("stream log ", segment.file->path(), ": nothing at offset ", from));
  }
  return std::string_view(read_buffer_.data(), got);
}

absl::Status StreamLog::Reset(uint64_t end_offset) {
  Remove();
  empty_end_ = end_offset;
  return absl::OkStatus();
}

void StreamLog::Remove() {
  empty_end_ = end_offset();
  for (Segment& segment : segments_) DeleteSegment(segment);
  segments_.clear();
  std::string().swap(read_buffer_);
}

void StreamLog::DropBefore(uint64_t offset) {
  while (segments_.size() > 1 && segments_.front().end() < offset) {
    DeleteSegment(segments_.front());
    segments_.pop_front();
  }
}

absl::Status StreamLog::Sync() {
  for (Segment& segment : segments_) RETURN_IF_ERROR(segment.file->Sync());
  return absl::OkStatus();
}

void StreamLog::SyncSoon() {
  if (segments_.empty()) return;
  if (options_.syncer != nullptr) {
    segments_.back().file->SyncSoon(*options_.syncer);
  } else {
    segments_.back().file->Sync().IgnoreError();
  }
}

uint64_t StreamLog::start_offset() const {
  return segments_.empty() ? empty_end_ + 1 : segments_.front().first;
}

uint64_t StreamLog::end_offset() const {
  return segments_.empty() ? empty_end_ : segments_.back().end();
}

uint64_t StreamLog::disk_bytes() const {
  uint64_t total = 0;
  for (const Segment& segment : segments_) total += segment.file->size();
  return total;
}

}  // namespace reshard::engine
