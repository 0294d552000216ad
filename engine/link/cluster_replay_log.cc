#include "engine/link/cluster_replay_log.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace reshard::engine {

bool IsIdempotentClusterUnit(const ClusterUnit& unit) {
  if (unit.commands.size() != 1) return false;
  const std::vector<std::string>& command = unit.commands[0];
  if (command.empty() || !absl::EqualsIgnoreCase(command[0], "RESTORE")) return false;
  return std::any_of(command.begin() + 1, command.end(),
                     [](const std::string& arg) { return absl::EqualsIgnoreCase(arg, "REPLACE"); });
}

namespace {

// Held by every replica the master lists (DropReplicated's rule).
bool IsReplicated(const ReplayUnit& unit, int64_t replicated) {
  return unit.end >= 0 && unit.end <= replicated;
}

}  // namespace

void ClusterReplayLog::Add(ReplayUnit unit) {
  bytes_ += unit.bytes;
  units_.push_back(std::move(unit));
}

void ClusterReplayLog::DropReplicated(int64_t replicated) {
  while (!units_.empty() && IsReplicated(units_.front(), replicated)) {
    // Kept: a replica that did not acknowledge it (disconnected, so not
    // counted) could still be the one promoted.
    dropped_end_ = std::max(dropped_end_, units_.front().end);
    bytes_ -= units_.front().bytes;
    units_.pop_front();
  }
}

void ClusterReplayLog::AddAndDropReplicated(std::vector<ReplayUnit> units, int64_t replicated) {
  if (replicated >= 0) DropReplicated(replicated);
  size_t first_kept = 0;
  if (units_.empty()) {
    // DropReplicated would drop the front units that every replica holds.
    while (first_kept < units.size() && IsReplicated(units[first_kept], replicated)) {
      dropped_end_ = std::max(dropped_end_, units[first_kept].end);
      ++first_kept;
    }
  }
  for (size_t i = first_kept; i < units.size(); ++i) {
    ReplayUnit& unit = units[i];
    unit.idempotent = IsIdempotentClusterUnit(unit.unit);
    unit.bytes = 0;
    for (const auto& command : unit.unit.commands) {
      for (const std::string& arg : command) unit.bytes += arg.size() + 16;
    }
    Add(std::move(unit));
  }
}

void ClusterReplayLog::DropBeyond(size_t max_bytes) {
  while (!units_.empty() && bytes_ > max_bytes) {
    // An unknown end: the largest offset known so far stands for it.
    dropped_end_ = std::max(dropped_end_, std::max(units_.front().end, units_.front().start));
    bytes_ -= units_.front().bytes;
    units_.pop_front();
  }
}

absl::StatusOr<ClusterReplayLog::Resolution> ClusterReplayLog::Resolve(int64_t held_offset,
                                                                       int64_t last_reply_offset) {
  std::deque<ReplayUnit> units = std::move(units_);
  units_.clear();
  bytes_ = 0;
  if (dropped_end_ > held_offset) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the new master applied the old one's stream up to offset ", held_offset,
        " but writes up to offset ", dropped_end_,
        " were dropped from reshardd's replay log (acknowledged by the replicas it listed then, "
        "or past the log's bound)"));
  }
  Resolution resolution;
  for (ReplayUnit& u : units) {
    if (u.end >= 0 && u.end <= held_offset) {
      // Everything before the ROLE after it reached the new master.
      if (!resolution.resend.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(DescribeClusterUnit(u.unit), " ended at offset ", u.end,
                         " <= ", held_offset, " after a unit the new master lacks"));
      }
      ++resolution.held;
      continue;
    }
    // The lowest offset it may start at: its own ROLE before it, or (no
    // reply) the last ROLE reply, which came before it.
    int64_t start = u.start;
    if (u.end < 0) start = std::max(start, last_reply_offset);
    if ((start >= 0 && start >= held_offset) || u.idempotent) {
      resolution.resend.push_back(std::move(u.unit));
      continue;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot tell whether ", DescribeClusterUnit(u.unit),
                     " reached the new master: it applied the old master's stream up to offset ",
                     held_offset, ", and the unit lies between offsets ", start, " and ",
                     u.end >= 0 ? absl::StrCat(u.end) : std::string("(no reply)"),
                     " (sending it again could apply it twice)"));
  }
  return resolution;
}

}  // namespace reshard::engine
