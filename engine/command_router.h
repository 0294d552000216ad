#pragma once

// CommandRouter turns the source's replication stream into one stream per
// target: each command goes, whole or split, to the targets whose filters
// select its keys. It tracks SELECT (the source's db and each target's) and
// regroups MULTI/EXEC per target. Single-threaded; one per job.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/command_table.h"
#include "engine/key_filter.h"
#include "engine/resp_parser.h"

namespace reshard::engine {

struct TargetCounters {
  uint64_t commands_kept = 0;     // got the command, whole or a part of it
  uint64_t commands_dropped = 0;  // got nothing of it
  uint64_t commands_split = 0;    // got a part of a split command (also counted as kept)
};

class CommandRouter {
 public:
  // `filters[i]` is target i's filter; `target_names[i]`, when given (same
  // size), names target i in error messages instead of its index. The filters
  // and the table are not owned and must outlive the router.
  CommandRouter(std::vector<const KeyFilter*> filters, const CommandTable* table,
                std::vector<std::string> target_names = {});

  // The source's current db (from the RDB's repl-stream-db, or 0). Until this
  // or a SELECT, a command that depends on the db is an error.
  void SetSourceDb(int db) { source_db_ = db; }
  int source_db() const { return source_db_; }

  // The db target i's stream has selected: -1 = unknown, so the next command
  // for it is preceded by SELECT. Set it to -1 when the target starts a new
  // stream (e.g. after a full resync of that target).
  int target_db(size_t i) const { return target_db_[i]; }
  void SetTargetDb(size_t i, int db) { target_db_[i] = db; }

  bool in_transaction() const { return in_multi_; }

  // Appends to (*out)[i] the bytes target i must receive for `cmd` (nothing
  // when it gets nothing, or when `cmd` is inside MULTI: then at EXEC).
  // Precondition: out->size() == number of targets.
  // Errors, after which nothing of `cmd` has been appended (the job must stop:
  // the router's transaction state is then unspecified):
  //  FAILED_PRECONDITION: an unknown command; a multi-key command whose keys
  //    select different targets and that cannot be split exactly (RENAME,
  //    SMOVE, MSETNX, BITOP, *STORE, EVAL, ...); REPLCONF (the job handles it);
  //    a command before the source's db is known; MULTI inside MULTI, EXEC or
  //    DISCARD outside.
  //  INVALID_ARGUMENT: a malformed command (arity, key count, SELECT index).
  absl::Status Route(const RespCommand& cmd, std::vector<std::string>* out);

  // Counted per routed command (not SELECT, MULTI, EXEC or keepalives), when
  // it is routed: inside MULTI before EXEC, and a DISCARDed one stays counted.
  const TargetCounters& counters(size_t i) const { return counters_[i]; }
  size_t target_count() const { return filters_.size(); }

 private:
  absl::Status RouteByKeys(const CommandInfo& info, const RespCommand& cmd,
                           std::vector<std::string>* out);
  // A part per target (kSplitKeys) once the keys' targets differ; uses keys_
  // and selected_ (keys x targets, row-major) filled by RouteByKeys.
  absl::Status RouteSplit(const CommandInfo& info, const RespCommand& cmd,
                          std::vector<std::string>* out);
  // The policy for a command whose keys select different targets and that
  // cannot be split: for now, an error naming the keys and their targets.
  absl::Status RouteCrossTarget(const CommandInfo& info, const RespCommand& cmd);
  absl::Status SourceDbKnown(const CommandInfo& info) const;

  // Where target i's next bytes go (its transaction part inside MULTI),
  // after a SELECT when `needs_db` and the target's db differs.
  std::string& Sink(size_t i, bool needs_db, std::vector<std::string>* out);
  std::string TargetLabel(size_t i) const;
  std::string TargetList(const uint8_t* selected) const;

  std::vector<const KeyFilter*> filters_;
  const CommandTable* table_;
  std::vector<std::string> names_;
  std::vector<TargetCounters> counters_;

  int source_db_ = -1;
  std::vector<int> target_db_;

  // MULTI ... EXEC: per target, its part so far, the db it will have selected
  // after the part, and whether the part holds a command.
  bool in_multi_ = false;
  int source_db_before_multi_ = -1;
  std::vector<std::string> txn_;
  std::vector<int> txn_db_;
  std::vector<uint8_t> txn_used_;

  // Scratch, kept to reuse capacity.
  std::vector<size_t> keys_;
  std::vector<uint8_t> selected_;
  std::vector<std::string_view> part_;
};

}  // namespace reshard::engine
