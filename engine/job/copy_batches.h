#pragma once

// CopyBatches: the key copies a job asks the source for, gathered into
// batches (engine/link/key_materializer.h reads one batch per round trip,
// several in flight). The open batch collects requests, each key once, until
// it is sent: every unit waiting for a key in it shares that one copy, taken
// after all of them were read. A received batch's copies are kept while a
// waiting unit holds the batch. Batch ids increase in the order the batches
// are sent. Single-threaded.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "engine/link/key_materializer.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

class CopyBatches {
 public:
  // Adds `ref` to the open batch (once) and returns the open batch's id.
  uint64_t Request(const KeyRef& ref);
  uint64_t open_id() const { return open_id_; }
  size_t open_keys() const { return open_keys_.size(); }

  // The open batch's requests, to send; it is in flight from now on (the
  // oldest sent is received first) and a new open batch begins.
  std::vector<Materialization> TakeOpen();
  size_t in_flight() const { return in_flight_.size(); }

  // The reply to the oldest batch in flight. INTERNAL when none is.
  absl::Status Received(MaterializedBatch batch);
  bool received(uint64_t id) const { return received_.contains(id); }

  // A unit holds batch `id` until it is routed (Release); a received batch
  // nobody holds is dropped.
  void Hold(uint64_t id) { ++holds_[id]; }
  void Release(uint64_t id);

  // The newest copy (the highest source offset) of `ref` among the received
  // batches `ids`, or null. *batch is the batch it is in.
  const MaterializedKey* Find(std::span<const uint64_t> ids, const KeyRef& ref,
                              const MaterializedBatch** batch) const;

  // Received batches still held, and the keys in them.
  size_t received_batches() const { return received_.size(); }

 private:
  struct ReceivedBatch {
    MaterializedBatch batch;
    // (db, key) -> i in batch.keys, viewing the batch's own key strings.
    absl::flat_hash_map<KeyRef, size_t, DbKeyHash, DbKeyEq> index;
  };

  uint64_t open_id_ = 1;
  std::vector<Materialization> open_;
  absl::flat_hash_set<DbKey, DbKeyHash, DbKeyEq> open_keys_;
  std::deque<uint64_t> in_flight_;
  absl::flat_hash_map<uint64_t, ReceivedBatch> received_;
  absl::flat_hash_map<uint64_t, uint32_t> holds_;
};

}  // namespace reshard::engine
