#include "engine/job/deferred_units.h"

#include <utility>

namespace reshard::engine {

bool DeferredUnits::MustWait(std::span<const KeyRef> keys) const {
  if (barriers_ > 0) return true;
  if (waiting_.empty()) return false;
  for (const KeyRef& key : keys) {
    if (waiting_.contains(KeyHash(key))) return true;
  }
  return false;
}

bool DeferredUnits::MustWait(std::span<const uint64_t> key_hashes) const {
  if (barriers_ > 0) return true;
  if (waiting_.empty()) return false;
  for (uint64_t hash : key_hashes) {
    if (waiting_.contains(hash)) return true;
  }
  return false;
}

void DeferredUnits::Push(StreamUnit unit) {
  for (uint64_t hash : unit.key_hashes) ++waiting_[hash];
  if (unit.barrier) ++barriers_;
  bytes_ += unit.wire.size();
  units_.push_back(std::move(unit));
}

StreamUnit DeferredUnits::Pop() {
  StreamUnit unit = std::move(units_.front());
  units_.pop_front();
  for (uint64_t hash : unit.key_hashes) {
    auto it = waiting_.find(hash);
    if (it != waiting_.end() && --it->second == 0) waiting_.erase(it);
  }
  if (unit.barrier) --barriers_;
  bytes_ -= unit.wire.size();
  return unit;
}

}  // namespace reshard::engine
