#include "engine/route/skip_windows.h"

#include <algorithm>
#include <optional>

#include "engine/base/absl_view.h"
#include "engine/route/db_tracker.h"

namespace reshard::engine {

void SkipWindows::Open(int db, std::string_view key, uint64_t source_offset) {
  if (source_offset <= applied_offset_) return;
  auto [it, inserted] = windows_[db].try_emplace(std::string(key), source_offset);
  if (!inserted) {
    it->second = std::max(it->second, source_offset);
    return;
  }
  min_end_ = count_ == 0 ? source_offset : std::min(min_end_, source_offset);
  ++count_;
}

void SkipWindows::SetAppliedOffset(uint64_t offset) {
  applied_offset_ = offset;
  if (count_ == 0 || offset < min_end_) return;
  uint64_t min = UINT64_MAX;
  for (auto db_it = windows_.begin(); db_it != windows_.end();) {
    auto& keys = db_it->second;
    for (auto it = keys.begin(); it != keys.end();) {
      if (it->second <= offset) {
        keys.erase(it++);
        --count_;
      } else {
        min = std::min(min, it->second);
        ++it;
      }
    }
    if (keys.empty()) {
      windows_.erase(db_it++);
    } else {
      ++db_it;
    }
  }
  min_end_ = min;
}

std::vector<SkipWindows::Window> SkipWindows::List() const {
  std::vector<Window> out;
  out.reserve(count_);
  for (const auto& [db, keys] : windows_) {
    for (const auto& [key, end] : keys) out.push_back(Window{db, key, end});
  }
  return out;
}

bool SkipWindows::ContainsAny(std::span<const KeyRef> refs) const {
  for (const KeyRef& ref : refs) {
    auto it = windows_.find(ref.db);
    if (it != windows_.end() && it->second.contains(AsAbsl(ref.key))) return true;
  }
  return false;
}

void SkipWindows::AppendKeysOf(int from, int as, std::vector<KeyRef>* refs) const {
  auto it = windows_.find(from);
  if (it == windows_.end()) return;
  for (const auto& [key, end] : it->second) refs->push_back(KeyRef{as, key});
}

void SkipWindows::AppendAffectedBy(const CommandInfo& info, const RespCommand& cmd, int source_db,
                                   std::vector<KeyRef>* refs) const {
  if (info.name == "FLUSHALL") {
    for (const auto& [db, keys] : windows_) AppendKeysOf(db, db, refs);
  } else if (info.name == "FLUSHDB") {
    AppendKeysOf(source_db, source_db, refs);
  } else if (info.name == "SWAPDB" && cmd.args.size() == 3) {
    std::optional<int> a = ParseDbIndex(cmd.args[1]);
    std::optional<int> b = ParseDbIndex(cmd.args[2]);
    if (!a || !b) return;
    AppendKeysOf(*a, *a, refs);
    AppendKeysOf(*a, *b, refs);
    AppendKeysOf(*b, *b, refs);
    AppendKeysOf(*b, *a, refs);
  }
}

}  // namespace reshard::engine
