#include "engine/job/offset_map.h"

namespace reshard::engine {

void OffsetMap::Reset(uint64_t source, uint64_t target) {
  entries_.clear();
  entries_.emplace_back(source, target);
}

void OffsetMap::Record(uint64_t source, uint64_t target) {
  if (!entries_.empty()) {
    auto& [last_source, last_target] = entries_.back();
    if (target == last_target) {
      // Nothing new for the target: the same bytes cover more of the source.
      if (source > last_source) last_source = source;
      return;
    }
    if (source == last_source) {
      // Bytes with no source progress (PINGs): the old claim stays true for
      // the new end only when acknowledged past it; keep the earlier target.
      return;
    }
  }
  entries_.emplace_back(source, target);
  if (entries_.size() > kMaxEntries) {
    // Drop every other entry past the first: an acknowledgement then maps
    // to an earlier (smaller) source offset, never a later one.
    std::deque<std::pair<uint64_t, uint64_t>> kept;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (i % 2 == 0 || i + 1 == entries_.size()) kept.push_back(entries_[i]);
    }
    entries_.swap(kept);
  }
}

uint64_t OffsetMap::SourceOffsetFor(uint64_t target_acked) {
  // Keep the last entry at or below the acknowledgement, and what follows.
  while (entries_.size() >= 2 && entries_[1].second <= target_acked) entries_.pop_front();
  if (entries_.empty() || entries_.front().second > target_acked) return 0;
  return entries_.front().first;
}

}  // namespace reshard::engine
