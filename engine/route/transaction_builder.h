#pragma once

// TransactionBuilder regroups the source's MULTI ... EXEC into one
// transaction per target. Between Begin (the source's MULTI) and Commit (its
// EXEC) the router appends each target's share of the queued commands to
// that target's part instead of its output; Commit wraps each part that holds
// a command in MULTI ... EXEC, so every target applies its share atomically,
// and a target whose part stayed empty gets nothing. A part tracks the db its
// target will have selected after it, which becomes the target's db only at
// Commit. Single-threaded; one per router, reused for every transaction.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/route/db_tracker.h"

namespace reshard::engine {

class TransactionBuilder {
 public:
  explicit TransactionBuilder(size_t target_count);

  // Between Begin and Commit or Discard.
  bool open() const { return open_; }

  // The source's MULTI: empty parts, starting in the targets' current dbs.
  // FAILED_PRECONDITION (nothing changed) when a transaction is open.
  absl::Status Begin(const DbTracker& dbs);

  // Target i's part, to append its next command to; the part now holds a
  // command. Precondition: open(). The reference is valid until the next
  // Begin.
  std::string& Part(size_t i);
  // The same after a SELECT of `db`, when the part is in another db.
  std::string& PartInDb(size_t i, int db);

  // The source's EXEC: appends MULTI, the part and EXEC to (*out)[i] for each
  // target whose part holds a command, whose db in *dbs is then the part's;
  // the others keep theirs. FAILED_PRECONDITION (nothing appended) without
  // Begin. Precondition: out->size() is the target count.
  absl::Status Commit(DbTracker* dbs, std::vector<std::string>* out);

  // The source's DISCARD: the parts are dropped, and the source's db is again
  // what it was at Begin (a SELECT queued in a discarded transaction never
  // ran). FAILED_PRECONDITION without Begin.
  absl::Status Discard(DbTracker* dbs);

 private:
  bool open_ = false;
  int source_db_at_begin_ = kUnknownDb;
  std::vector<std::string> part_;
  std::vector<int> part_db_;   // the db target i has selected after its part
  std::vector<uint8_t> used_;  // whether target i's part holds a command
};

}  // namespace reshard::engine
