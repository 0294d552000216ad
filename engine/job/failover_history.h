#pragma once

// The source failovers a job followed, as kept in its state dir (file
// "source_failovers"), so that a restarted reshardd shows them again: the
// last kKeptSourceFailovers records and how many of each kind came before
// them (so that the totals, and the metrics, go on from where they were).
// Text, one record a line:
//   v1 earlier_partial=<n> earlier_full=<n>
//   <PENDING|PARTIAL|FULL> <unix ms> <offset> <from or -> <to or -> <C-escaped detail>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/job/job_status.h"

namespace reshard::engine {

// How many failover records a job keeps (its status and its state dir).
inline constexpr size_t kKeptSourceFailovers = 32;

struct FailoverHistory {
  std::vector<SourceFailover> failovers;  // oldest first, at most kKeptSourceFailovers
  uint64_t earlier_partial = 0;           // PARTIAL records dropped from the front
  uint64_t earlier_full = 0;              // FULL records dropped from the front
  bool operator==(const FailoverHistory&) const;
};

// Appends `failover`, dropping the oldest record (counted by its kind) once
// more than kKeptSourceFailovers are kept.
void AppendFailover(FailoverHistory& history, SourceFailover failover);
// Totals of each kind, the dropped records included.
uint64_t PartialFailovers(const FailoverHistory& history);
uint64_t FullFailovers(const FailoverHistory& history);

std::string EncodeFailoverHistory(const FailoverHistory& history);
// The inverse. DATA_LOSS naming the line and what is wrong with it.
absl::StatusOr<FailoverHistory> DecodeFailoverHistory(std::string_view text);

}  // namespace reshard::engine
