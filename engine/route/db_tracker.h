#pragma once

// DbTracker: which db each stream is in. The source's stream changes db with
// SELECT; each target's stream has the db of the last SELECT the router sent
// it. The router never forwards the source's SELECT: before a command that
// depends on the db it sends a target its own SELECT, and only when that
// target's stream is in another db. Plain state, single-threaded; one per
// router.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace reshard::engine {

// A db not known yet (the source's before its first SELECT, a target's
// before the router sent it one).
inline constexpr int kUnknownDb = -1;

// A db index as SELECT, MOVE, COPY ... DB and SWAPDB take it: a decimal
// number >= 0, nothing else. nullopt otherwise.
std::optional<int> ParseDbIndex(std::string_view arg);

// Appends SELECT `db` to *stream unless *selected is already `db`; then
// *selected is `db`. `selected` is the db that *stream ends in.
void SelectDbIn(int db, int* selected, std::string* stream);

class DbTracker {
 public:
  explicit DbTracker(size_t target_count) : target_db_(target_count, kUnknownDb) {}

  // The source's current db: from the RDB's repl-stream-db, then from each
  // SELECT in its stream. kUnknownDb until the first.
  int source_db() const { return source_db_; }
  void SetSourceDb(int db) { source_db_ = db; }

  // OK once the source's db is known; else FAILED_PRECONDITION naming
  // `command`, which depends on the db.
  absl::Status RequireSourceDb(std::string_view command) const;

  // The db target i's stream has selected, kUnknownDb when none is known (the
  // next command for it that depends on the db is then preceded by SELECT).
  // Set it to kUnknownDb when the target starts a new stream.
  int target_db(size_t i) const { return target_db_[i]; }
  void SetTargetDb(size_t i, int db) { target_db_[i] = db; }

  // Appends to *stream, target i's output, the SELECT it needs before a
  // command in `db`, if any.
  void SelectForTarget(size_t i, int db, std::string* stream) {
    SelectDbIn(db, &target_db_[i], stream);
  }

 private:
  int source_db_ = kUnknownDb;
  std::vector<int> target_db_;
};

}  // namespace reshard::engine
