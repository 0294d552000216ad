#include "engine/job/copy_batches.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

uint64_t CopyBatches::Request(const KeyRef& ref) {
  if (open_keys_.contains(ref)) return open_id_;
  open_keys_.insert(DbKey{ref.db, std::string(ref.key)});
  // Each key once already: appended to its db's request without a search.
  auto it = std::find_if(open_.begin(), open_.end(),
                         [&](const Materialization& m) { return m.db == ref.db; });
  if (it == open_.end()) it = open_.insert(open_.end(), Materialization{ref.db, {}});
  it->keys.emplace_back(ref.key);
  return open_id_;
}

std::vector<Materialization> CopyBatches::TakeOpen() {
  std::vector<Materialization> requests = std::move(open_);
  open_.clear();
  open_keys_.clear();
  in_flight_.push_back(open_id_++);
  return requests;
}

absl::Status CopyBatches::Received(MaterializedBatch batch) {
  if (in_flight_.empty()) return absl::InternalError("key copies: a reply with no batch in flight");
  const uint64_t id = in_flight_.front();
  in_flight_.pop_front();
  if (!holds_.contains(id)) return absl::OkStatus();  // nobody waits for it any more
  ReceivedBatch& received = received_[id];
  received.batch = std::move(batch);
  received.index.reserve(received.batch.keys.size());
  for (size_t i = 0; i < received.batch.keys.size(); ++i) {
    const auto& [db, key] = received.batch.keys[i];
    received.index.emplace(KeyRef{db, key.key}, i);
  }
  return absl::OkStatus();
}

void CopyBatches::Release(uint64_t id) {
  auto it = holds_.find(id);
  if (it == holds_.end() || --it->second > 0) return;
  holds_.erase(it);
  received_.erase(id);
}

const MaterializedKey* CopyBatches::Find(std::span<const uint64_t> ids, const KeyRef& ref,
                                         const MaterializedBatch** batch) const {
  const MaterializedKey* best = nullptr;
  for (uint64_t id : ids) {
    auto it = received_.find(id);
    if (it == received_.end()) continue;
    auto found = it->second.index.find(ref);
    if (found == it->second.index.end()) continue;
    const MaterializedBatch& candidate = it->second.batch;
    if (best == nullptr || candidate.source_offset > (*batch)->source_offset) {
      best = &candidate.keys[found->second].second;
      *batch = &candidate;
    }
  }
  return best;
}

}  // namespace reshard::engine
