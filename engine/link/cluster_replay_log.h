#pragma once

// ClusterReplayLog: what one master of a cluster target has acknowledged
// but its replicas may not hold yet, so that a failover inside the cluster
// loses no write and applies none twice.
//
// Redis replicates asynchronously: a master answers a write, then dies, and
// the replica promoted in its place may lack it. The ClusterWriter sends
// ROLE after every stream unit (to a master with replicas; RESTORE ...
// REPLACE units need none), in the same pipeline: its reply is the
// master's replication offset right after the unit (the unit's `end`; the
// ROLE before it gives its `start`) and its replicas' acknowledged offsets.
// A unit stays here until every replica has acknowledged its end. When the
// master dies, the promoted replica says how far it got (INFO replication:
// master_replid2 is the old master's replid, second_repl_offset - 1 the
// last byte of its stream it applied), and Resolve splits the log exactly:
// a unit that ended at or before that offset is held by the new master (not
// sent again: INCR, APPEND, LPUSH would double), one that started at or
// after it is not (sent again). Plain data, no I/O.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/route/cluster_split.h"

namespace reshard::engine {

struct ReplayUnit {
  ClusterUnit unit;
  // The master's replication offset before and after the unit (-1: unknown,
  // e.g. its reply never came). Bounds: background propagation (an expired
  // key's DEL, the master's PING to its replicas) may fall between the
  // unit and the ROLE beside it.
  int64_t start = -1;
  int64_t end = -1;
  // RESTORE ... REPLACE: sending it again is harmless, so an unknown end
  // never makes it ambiguous.
  bool idempotent = false;
  size_t bytes = 0;
};

// RESTORE ... REPLACE (the snapshot's units, and materialised keys).
bool IsIdempotentClusterUnit(const ClusterUnit& unit);

class ClusterReplayLog {
 public:
  // Appends a unit the master acknowledged (or that was in flight when it
  // died). Units come in the order the master received them.
  void Add(ReplayUnit unit);
  // Drops the units every replica the master lists holds (end <=
  // `replicated`); with no replica listed, the master's own offset.
  void DropReplicated(int64_t replicated);
  // Adds `units` and drops the replicated ones as Add and DropReplicated
  // would, without copying into the log the units that would leave it at
  // once (all of them, when the master has no replica: the common case of
  // a snapshot into a cluster without replicas). Fills in each kept unit's
  // `idempotent` and `bytes`.
  void AddAndDropReplicated(std::vector<ReplayUnit> units, int64_t replicated);
  // Drops the oldest units until at most `max_bytes` remain (a replica too
  // far behind): a failover that needs them then fails (Resolve).
  void DropBeyond(size_t max_bytes);
  size_t bytes() const { return bytes_; }
  size_t size() const { return units_.size(); }

  struct Resolution {
    std::vector<ClusterUnit> resend;  // in order
    size_t held = 0;                  // units the new master holds
  };
  // Splits the log against `held_offset`, the last byte of the old master's
  // stream the new master applied; `last_reply_offset` is the offset of the
  // last ROLE reply the old master sent (every unit without a reply came
  // after it). FAILED_PRECONDITION (the message says which unit and why)
  // when a dropped unit is missing on the new master, or when a unit that is
  // not idempotent may or may not be held (the offsets do not decide). The
  // log is empty afterwards.
  absl::StatusOr<Resolution> Resolve(int64_t held_offset, int64_t last_reply_offset);

 private:
  std::deque<ReplayUnit> units_;
  size_t bytes_ = 0;
  int64_t dropped_end_ = -1;  // the largest end among the units dropped
};

}  // namespace reshard::engine
