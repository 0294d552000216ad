#include "engine/job/deferred_units.h"

#include <utility>

namespace reshard::engine {

bool DeferredUnits::MustWait(std::span<const KeyRef> keys) const {
  if (barriers_ > 0) return true;
  if (waiting_.empty()) return false;
  for (const KeyRef& key : keys) {
    if (waiting_.contains(key)) return true;
  }
  return false;
}

bool DeferredUnits::MustWait(std::span<const DbKey> keys) const {
  if (barriers_ > 0) return true;
  if (waiting_.empty()) return false;
  for (const DbKey& key : keys) {
    if (waiting_.contains(key)) return true;
  }
  return false;
}

void DeferredUnits::Push(StreamUnit unit) {
  for (const DbKey& key : unit.keys) ++waiting_[key];
  if (unit.barrier) ++barriers_;
  bytes_ += unit.wire.size();
  units_.push_back(std::move(unit));
}

StreamUnit DeferredUnits::Pop() {
  StreamUnit unit = std::move(units_.front());
  units_.pop_front();
  for (const DbKey& key : unit.keys) {
    auto it = waiting_.find(key);
    if (it != waiting_.end() && --it->second == 0) waiting_.erase(it);
  }
  if (unit.barrier) --barriers_;
  bytes_ -= unit.wire.size();
  return unit;
}

}  // namespace reshard::engine
