#pragma once

// KeyFilter decides whether a key belongs to a target. One filter per target;
// the same object decides in the RDB snapshot and in the command stream.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::engine {

enum class FilterKind { kRegex, kPrefix, kGlob, kSlots };

// What a job spec says about one target's filter. `pattern` is the regex, the
// prefix, the glob, or the slot ranges ("0-8191", "0-100,200,300-400").
struct FilterSpec {
  FilterKind kind = FilterKind::kRegex;
  std::string pattern;
};

// Immutable and thread-compatible: Matches() may be called from any thread.
class KeyFilter {
 public:
  virtual ~KeyFilter() = default;
  virtual bool Matches(std::string_view key) const = 0;
  // Human-readable form, e.g. "regex:^[0-4]".
  virtual std::string Describe() const = 0;
};

// Builds a filter. INVALID_ARGUMENT (message names the problem, without the
// field path; callers prefix it) for a bad regex, an empty prefix/glob, or bad
// slot ranges.
absl::StatusOr<std::unique_ptr<KeyFilter>> MakeKeyFilter(const FilterSpec& spec);

std::string_view FilterKindName(FilterKind kind);

}  // namespace reshard::engine
