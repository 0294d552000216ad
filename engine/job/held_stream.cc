#include "engine/job/held_stream.h"

namespace reshard::engine {

absl::Status HeldStream::Add(uint64_t source_end, std::string_view bytes) {
  last_source_end_ = source_end;
  if (bytes.empty()) return absl::OkStatus();
  if (snapshot_offset_.has_value()) {
    if (source_end <= *snapshot_offset_) return absl::OkStatus();
    kept_ = true;
    return bytes_.Push(bytes);
  }
  absl::Status pushed = bytes_.Push(bytes);
  if (pushed.ok()) marks_.emplace_back(source_end, bytes_.pushed());
  return pushed;
}

void HeldStream::SetSnapshotOffset(uint64_t offset) {
  snapshot_offset_ = offset;
  uint64_t drop_to = bytes_.popped();
  while (!marks_.empty() && marks_.front().first <= offset) {
    drop_to = marks_.front().second;
    marks_.pop_front();
  }
  marks_.clear();
  kept_ = bytes_.pushed() > drop_to;
  bytes_.Pop(drop_to - bytes_.popped());
}

}  // namespace reshard::engine
