#pragma once

// CopyBatches: the key copies a job asks the source for, gathered into
// batches (engine/link/key_materializer.h reads one batch per round trip,
// several in flight). A batch collects requests, each key once, until it is
// sent: every unit waiting for a key in it shares that one copy, taken after
// all of them were read. The open batch takes new keys; a sealed one (full)
// takes none but still shares its keys until it is sent, so batches stay
// small (a reply is routed in one go) however far the stream runs ahead of
// the copies. A received batch's copies are kept while a waiting unit holds
// the batch. Batch ids increase in the order the batches are sent.
// Single-threaded.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "engine/link/key_materializer.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

class CopyBatches {
 public:
  // The id of the unsent batch that asks for `ref`: the one that has it
  // already, else the open batch, which it is added to.
  uint64_t Request(const KeyRef& ref);
  // Keys in the open batch; in every batch not sent.
  size_t open_keys() const { return open_.keys; }
  size_t unsent_keys() const { return unsent_.size(); }
  // Closes the open batch to new keys (when it has any); a new one opens.
  void Seal();
  size_t sealed() const { return sealed_.size(); }

  // The oldest unsent batch's requests (a sealed one, else the open one),
  // to send; it is in flight from now on (the oldest sent is received
  // first). Empty when nothing is asked for.
  std::vector<Materialization> TakeNext();
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

  struct Unsent {
    uint64_t id = 0;
    std::vector<Materialization> requests;  // one per db
    size_t keys = 0;
  };

  Unsent open_{1};
  std::deque<Unsent> sealed_;  // oldest first
  uint64_t next_id_ = 2;
  // Every key asked for in a batch not sent -> that batch's id.
  absl::flat_hash_map<DbKey, uint64_t, DbKeyHash, DbKeyEq> unsent_;
  std::deque<uint64_t> in_flight_;
  absl::flat_hash_map<uint64_t, ReceivedBatch> received_;
  absl::flat_hash_map<uint64_t, uint32_t> holds_;
};

}  // namespace reshard::engine
