#pragma once

// CutoverOptions and CutoverReport: how a cutover of a job runs and what it
// did (engine/job/cutover_phase.h runs it on the job's thread). Plain values:
// the report is part of every published JobStatus while and after it runs.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace reshard::engine {

struct CutoverOptions {
  // The longest the source's writes may stay paused: the CLIENT PAUSE
  // timeout (the source unpauses itself after it even if reshardd dies), and
  // the bound past which the cutover rolls back.
  absl::Duration max_write_pause = absl::Seconds(2);
  // Step 1 waits until every target is less than this behind the source.
  uint64_t lag_threshold_bytes = 1 << 20;
  absl::Duration lag_wait_timeout = absl::Seconds(60);
  bool promote = false;              // REPLICAOF NO ONE on every managed target
  bool leave_source_paused = false;  // no CLIENT UNPAUSE: the pause times out
};

enum class CutoverState {
  kRunning,     // the steps are under way (the job is CUTOVER)
  kDone,        // every step done: the job is DONE
  kRolledBack,  // a step failed: the source unpaused, the job streams on
};
// "RUNNING", "DONE", "ROLLED_BACK".
std::string_view CutoverStateName(CutoverState state);

struct CutoverTargetReport {
  std::string name;
  // The source offset it had applied when the drain ended (>= final_offset
  // on success).
  uint64_t source_acked_offset = 0;
  bool managed = false;   // has a replica address reshardd can promote
  bool promoted = false;  // REPLICAOF NO ONE sent and role:master seen
  // Keys per db (INFO keyspace) of a managed or cluster target after the
  // cutover.
  std::vector<std::pair<int, uint64_t>> db_keys;
  uint64_t keys = 0;  // sum of db_keys
  // A cluster target: its masters take writes already (nothing to promote);
  // db_keys are the sums over them.
  bool cluster = false;
  friend bool operator==(const CutoverTargetReport&, const CutoverTargetReport&) = default;
};

struct CutoverReport {
  CutoverState state = CutoverState::kRunning;
  CutoverOptions options;
  int64_t started_unix_ms = 0;
  int64_t finished_unix_ms = 0;  // 0 while running
  // From the reply to CLIENT PAUSE to the reply to CLIENT UNPAUSE (with the
  // source left paused: to the end of the last step).
  double write_pause_ms = 0;
  uint64_t final_offset = 0;  // the source's master_repl_offset when paused
  std::string pause_mode;     // "WRITE", or "ALL" for a source older than Redis 6.2
  std::string source_version;
  // Where the writes were paused: the source, or its master when the job
  // reads from a replica (INFO replication).
  std::string paused_address;
  bool source_left_paused = false;
  std::vector<std::string> steps;  // one line per step done, in order
  std::vector<CutoverTargetReport> targets;
  // Why it rolled back: "cutover step N (<what>): <why>; source unpaused".
  std::string error;
};

}  // namespace reshard::engine
