#include "engine/route/skip_windows.h"

#include <algorithm>
#include <optional>

#include "engine/base/absl_view.h"
#include "engine/route/db_tracker.h"

namespace reshard::engine {

bool SkipWindows::Open(int db, std::string_view key, uint64_t source_offset, bool covering) {
  auto db_it = windows_.find(db);
  if (db_it != windows_.end()) {
    auto it = db_it->second.find(AsAbsl(key));
    if (it != db_it->second.end()) {
      Window& window = it->second;
      if (Covers(window) && source_offset <= window.end) return false;
      if (source_offset > window.end) {
        // The targets now hold the key as of the later offset.
        window.end = source_offset;
        window.covering = covering;
        window.generation = generation_;
        closing_.emplace(source_offset, db, &it->first);
      }
      // An older copy than the window's end (it was not covering): sent, and
      // every command up to the end still copies the key again.
      return true;
    }
  }
  if (source_offset <= applied_offset_) return true;
  auto [it, inserted] =
      windows_[db].try_emplace(std::string(key), Window{source_offset, generation_, covering});
  closing_.emplace(source_offset, db, &it->first);
  ++count_;
  return true;
}

void SkipWindows::SetAppliedOffset(uint64_t offset) {
  applied_offset_ = offset;
  position_ = offset;
  while (!closing_.empty() && std::get<0>(closing_.top()) <= offset) {
    const auto& [end, db, key] = closing_.top();
    auto db_it = windows_.find(db);
    if (db_it != windows_.end()) {
      auto it = db_it->second.find(*key);
      // A window extended since has a later entry; this one is stale.
      if (it != db_it->second.end() && it->second.end == end) {
        db_it->second.erase(it);
        --count_;
        if (db_it->second.empty()) windows_.erase(db_it);
      }
    }
    closing_.pop();
  }
  // Nothing open: the queue's stale entries go too.
  if (count_ == 0 && !closing_.empty()) closing_ = decltype(closing_)();
}

SkipWindows::Hit SkipWindows::Check(const KeyRef& ref) const {
  if (count_ == 0) return Hit::kNone;
  auto db_it = windows_.find(ref.db);
  if (db_it == windows_.end()) return Hit::kNone;
  auto it = db_it->second.find(AsAbsl(ref.key));
  if (it == db_it->second.end() || it->second.end <= position_) return Hit::kNone;
  return Covers(it->second) ? Hit::kCovered : Hit::kRecopy;
}

std::vector<SkipWindows::OpenWindow> SkipWindows::List() const {
  std::vector<OpenWindow> out;
  out.reserve(count_);
  for (const auto& [db, keys] : windows_) {
    for (const auto& [key, window] : keys) {
      if (window.end > applied_offset_) out.push_back(OpenWindow{db, key, window.end});
    }
  }
  return out;
}

bool SkipWindows::ContainsAny(std::span<const KeyRef> refs) const {
  for (const KeyRef& ref : refs) {
    if (Check(ref) != Hit::kNone) return true;
  }
  return false;
}

void SkipWindows::AppendKeysOf(int from, int as, std::vector<KeyRef>* refs) const {
  auto it = windows_.find(from);
  if (it == windows_.end()) return;
  for (const auto& [key, window] : it->second) {
    if (window.end > position_) refs->push_back(KeyRef{as, key});
  }
}

void SkipWindows::AppendAffectedBy(const CommandInfo& info, const RespCommand& cmd, int source_db,
                                   std::vector<KeyRef>* refs) const {
  if (count_ == 0) return;
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
