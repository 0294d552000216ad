#pragma once

// DeferredUnits: the units of the source's stream (one command, or a whole
// MULTI ... EXEC) that wait, in the source's order: for copies of their keys
// (a cross-target write, a key inside a skip window), or behind a waiting
// unit that touches one of their keys (each key's commands stay in order),
// or behind a barrier (FLUSHALL, SWAPDB, ...: everything waits for it). Units
// on other keys are routed at once, ahead of them (engine/job/stream_router.h).
// Owns each unit's bytes. Keys are kept as hashes: two keys with the same
// hash make a unit wait when it need not, never the reverse. Single-threaded.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/route/db_tracker.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

struct StreamUnit {
  uint64_t start = 0;   // source offset of its first byte
  uint64_t end = 0;     // source offset after it
  int db = kUnknownDb;  // the source's db before it
  int64_t now_ms = 0;   // when it was read (its relative expiries count from then)
  bool barrier = false;
  std::string wire;                  // its commands, as the source sent them
  std::vector<uint64_t> key_hashes;  // KeyHash of each key it touches
  std::vector<uint64_t> batches;     // the copy batches its keys' copies come in
};

// What DeferredUnits keeps of a key.
inline uint64_t KeyHash(const KeyRef& ref) { return DbKeyHash()(ref); }

class DeferredUnits {
 public:
  bool empty() const { return units_.empty(); }
  size_t size() const { return units_.size(); }
  // The bytes of the waiting units' commands.
  uint64_t bytes() const { return bytes_; }
  bool has_barrier() const { return barriers_ > 0; }

  // Whether a unit touching `keys` must wait behind the waiting ones: a
  // barrier waits, or a waiting unit touches one of the keys.
  bool MustWait(std::span<const KeyRef> keys) const;
  bool MustWait(std::span<const uint64_t> key_hashes) const;

  // Appends `unit`; its keys wait with it.
  void Push(StreamUnit unit);
  // The oldest waiting unit. Precondition: !empty().
  StreamUnit& front() { return units_.front(); }
  // Removes the oldest and returns it; its keys no longer wait for it.
  StreamUnit Pop();

 private:
  std::deque<StreamUnit> units_;
  // Key hash -> how many waiting units touch it.
  absl::flat_hash_map<uint64_t, uint32_t> waiting_;
  size_t barriers_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace reshard::engine
