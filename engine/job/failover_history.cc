#include "engine/job/failover_history.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {
namespace {

constexpr char kVersion[] = "v1";

absl::Status Malformed(size_t line, std::string_view what) {
  return absl::DataLossError(absl::StrCat("source failovers line ", line, ": ", AsAbsl(what)));
}

bool ParseKind(absl::string_view name, SourceFailover::Kind* kind) {
  for (SourceFailover::Kind k : {SourceFailover::Kind::kPending, SourceFailover::Kind::kPartial,
                                 SourceFailover::Kind::kFull}) {
    if (name == AsAbsl(SourceFailoverKindName(k))) {
      *kind = k;
      return true;
    }
  }
  return false;
}

// "name=<n>" into *value.
bool ParseCount(absl::string_view field, absl::string_view name, uint64_t* value) {
  if (!absl::ConsumePrefix(&field, name) || !absl::ConsumePrefix(&field, "=")) return false;
  return absl::SimpleAtoi(field, value);
}

uint64_t CountKind(const FailoverHistory& history, SourceFailover::Kind kind) {
  return std::count_if(history.failovers.begin(), history.failovers.end(),
                       [kind](const SourceFailover& f) { return f.kind == kind; });
}

}  // namespace

bool FailoverHistory::operator==(const FailoverHistory& other) const {
  auto same = [](const SourceFailover& a, const SourceFailover& b) {
    return a.from == b.from && a.to == b.to && a.kind == b.kind && a.offset == b.offset &&
           a.unix_ms == b.unix_ms && a.detail == b.detail;
  };
  return earlier_partial == other.earlier_partial && earlier_full == other.earlier_full &&
         std::equal(failovers.begin(), failovers.end(), other.failovers.begin(),
                    other.failovers.end(), same);
}

void AppendFailover(FailoverHistory& history, SourceFailover failover) {
  history.failovers.push_back(std::move(failover));
  while (history.failovers.size() > kKeptSourceFailovers) {
    const SourceFailover::Kind kind = history.failovers.front().kind;
    if (kind == SourceFailover::Kind::kPartial) ++history.earlier_partial;
    if (kind == SourceFailover::Kind::kFull) ++history.earlier_full;
    history.failovers.erase(history.failovers.begin());
  }
}

uint64_t PartialFailovers(const FailoverHistory& history) {
  return history.earlier_partial + CountKind(history, SourceFailover::Kind::kPartial);
}

uint64_t FullFailovers(const FailoverHistory& history) {
  return history.earlier_full + CountKind(history, SourceFailover::Kind::kFull);
}

std::string EncodeFailoverHistory(const FailoverHistory& history) {
  std::string text = absl::StrCat(kVersion, " earlier_partial=", history.earlier_partial,
                                  " earlier_full=", history.earlier_full, "\n");
  for (const SourceFailover& f : history.failovers) {
    absl::StrAppend(&text, AsAbsl(SourceFailoverKindName(f.kind)), " ", f.unix_ms, " ", f.offset,
                    " ", f.from.empty() ? "-" : f.from, " ", f.to.empty() ? "-" : f.to, " ",
                    absl::CEscape(f.detail), "\n");
  }
  return text;
}

absl::StatusOr<FailoverHistory> DecodeFailoverHistory(std::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(AsAbsl(text), '\n', absl::SkipEmpty());
  if (lines.empty()) return Malformed(1, "empty");
  std::vector<absl::string_view> head = absl::StrSplit(lines[0], ' ');
  FailoverHistory history;
  if (head.size() != 3 || head[0] != kVersion ||
      !ParseCount(head[1], "earlier_partial", &history.earlier_partial) ||
      !ParseCount(head[2], "earlier_full", &history.earlier_full)) {
    return Malformed(1, "not \"v1 earlier_partial=<n> earlier_full=<n>\"");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<absl::string_view> parts = absl::StrSplit(lines[i], absl::MaxSplits(' ', 5));
    SourceFailover f;
    if (parts.size() != 6) return Malformed(i + 1, "fewer than 6 fields");
    if (!ParseKind(parts[0], &f.kind)) return Malformed(i + 1, "unknown kind");
    if (!absl::SimpleAtoi(parts[1], &f.unix_ms)) return Malformed(i + 1, "malformed time");
    if (!absl::SimpleAtoi(parts[2], &f.offset)) return Malformed(i + 1, "malformed offset");
    f.from = parts[3] == "-" ? "" : std::string(parts[3]);
    f.to = parts[4] == "-" ? "" : std::string(parts[4]);
    if (!absl::CUnescape(parts[5], &f.detail)) return Malformed(i + 1, "malformed detail");
    history.failovers.push_back(std::move(f));
  }
  if (history.failovers.size() > kKeptSourceFailovers) {
    return Malformed(lines.size(), "more records than are kept");
  }
  return history;
}

}  // namespace reshard::engine
