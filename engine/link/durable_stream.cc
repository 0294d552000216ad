#include "engine/link/durable_stream.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

absl::Status DurableStream::Start(uint64_t end_offset) {
  if (!enabled()) return absl::OkStatus();
  StopReplay();
  recorded_end_ = UINT64_MAX;
  absl::StatusOr<std::unique_ptr<StreamLog>> log = StreamLog::Create(options_, end_offset);
  if (!log.ok()) {
    Drop(log.status());
    return log.status();
  }
  log_ = *std::move(log);
  error_.clear();
  return absl::OkStatus();
}

absl::Status DurableStream::Restore(uint64_t end_offset) {
  if (!enabled()) return absl::FailedPreconditionError("the stream is not logged");
  StopReplay();
  absl::StatusOr<std::unique_ptr<StreamLog>> log = StreamLog::Open(options_, end_offset);
  if (!log.ok()) {
    Drop(log.status());
    return log.status();
  }
  log_ = *std::move(log);
  error_.clear();
  recorded_end_ = end_offset;
  return absl::OkStatus();
}

void DurableStream::Append(std::string_view bytes, uint64_t retain_from) {
  if (log_ == nullptr) return;
  if (absl::Status logged = log_->Append(bytes); !logged.ok()) return Drop(logged);
  if (log_->segments() > 1) {
    log_->DropBefore(replaying() ? std::min(retain_from, replay_next_) : retain_from);
  }
}

void DurableStream::Reset(uint64_t end_offset) {
  StopReplay();
  recorded_end_ = UINT64_MAX;
  if (log_ == nullptr) return;
  if (absl::Status reset = log_->Reset(end_offset); !reset.ok()) Drop(reset);
}

bool DurableStream::Holds(uint64_t from, uint64_t to) const {
  return log_ != nullptr && from >= log_->start_offset() && to <= log_->end_offset();
}

void DurableStream::StartReplay(uint64_t from, uint64_t to) {
  replay_next_ = from;
  replay_end_ = to;
}

absl::StatusOr<std::string_view> DurableStream::NextReplayBytes(size_t max) {
  if (log_ == nullptr) {
    return absl::DataLossError(absl::StrCat("the stream log was dropped: ", error_));
  }
  uint64_t left = replay_end_ - replay_next_ + 1;
  absl::StatusOr<std::string_view> bytes =
      log_->Read(replay_next_, static_cast<size_t>(std::min<uint64_t>(left, max)));
  if (bytes.ok()) replay_next_ += bytes->size();
  return bytes;
}

void DurableStream::Drop(const absl::Status& why) {
  error_ = std::string(why.message());
  if (log_ != nullptr) log_->Remove();
  log_.reset();
  // A replay in progress fails on its next read (the replica must not get
  // the outbox after a gap).
  recorded_end_ = UINT64_MAX;
}

}  // namespace reshard::engine
