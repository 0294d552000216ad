#include "engine/job/copy_batches.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

uint64_t CopyBatches::Request(const KeyRef& ref) {
  if (auto it = unsent_.find(ref); it != unsent_.end()) return it->second;
  unsent_.emplace(DbKey{ref.db, std::string(ref.key)}, open_.id);
  // Each key once already: appended to its db's request without a search.
  auto it = std::find_if(open_.requests.begin(), open_.requests.end(),
                         [&](const Materialization& m) { return m.db == ref.db; });
  if (it == open_.requests.end()) {
    it = open_.requests.insert(open_.requests.end(), Materialization{ref.db, {}});
  }
  it->keys.emplace_back(ref.key);
  ++open_.keys;
  return open_.id;
}

void CopyBatches::Seal() {
  if (open_.keys == 0) return;
  sealed_.push_back(std::move(open_));
  open_ = Unsent{next_id_++};
}

std::vector<Materialization> CopyBatches::TakeNext() {
  if (sealed_.empty()) Seal();
  if (sealed_.empty()) return {};
  Unsent next = std::move(sealed_.front());
  sealed_.pop_front();
  for (const Materialization& request : next.requests) {
    for (const std::string& key : request.keys) unsent_.erase(KeyRef{request.db, key});
  }
  in_flight_.push_back(next.id);
  return std::move(next.requests);
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
