// The re-checks of a verification (verifier.h): lag is not loss.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/base/status_macros.h"
#include "engine/job/verifier.h"
#include "engine/job/verify_logical.h"
#include "engine/job/verify_sampling.h"

namespace reshard::engine {
namespace {

// How often a re-check looks whether the targets applied the offset.
constexpr absl::Duration kOffsetPoll = absl::Milliseconds(50);

}  // namespace

asio::awaitable<std::set<size_t>> Verifier::WaitForOffsets(const std::vector<Suspect>& suspects) {
  std::map<size_t, uint64_t> needed;
  for (const Suspect& s : suspects) needed[s.target] = std::max(needed[s.target], s.offset);
  const absl::Time deadline = absl::Now() + options_.recheck_wait;
  while (true) {
    std::optional<std::vector<uint64_t>> applied =
        options_.applied_offsets ? options_.applied_offsets() : std::nullopt;
    // A job that no longer streams changes nothing: what differs, differs.
    if (!applied.has_value()) co_return std::set<size_t>();
    std::set<size_t> behind;
    for (const auto& [t, offset] : needed) {
      if (t >= applied->size() || (*applied)[t] < offset) behind.insert(t);
    }
    if (behind.empty() || absl::Now() >= deadline || Cancelled().code() != absl::StatusCode::kOk) {
      co_return behind;
    }
    co_await Sleep(kOffsetPoll);
  }
}

asio::awaitable<absl::Status> Verifier::Recheck(int db) {
  std::vector<Suspect> suspects = std::move(suspects_);
  suspects_.clear();
  report_.rechecked += suspects.size();
  for (int attempt = 0; attempt < options_.recheck_attempts && !suspects.empty(); ++attempt) {
    std::set<size_t> behind = co_await WaitForOffsets(suspects);
    std::vector<Suspect> ready;
    for (Suspect& s : suspects) {
      if (behind.contains(s.target)) {
        ++report_.unsettled;  // the target never applied the offset in time
      } else {
        ready.push_back(std::move(s));
      }
    }
    // Read again: the source (with its offset), then each target.
    std::vector<std::string> keys;
    for (const Suspect& s : ready) keys.push_back(s.key);
    std::vector<size_t> all(keys.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::vector<std::vector<std::string>> commands;
    AppendKeyReads(keys, all, ExpiryCommand(), &commands);
    if (WantOffsets()) commands.push_back({"INFO", "replication"});
    CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                        co_await source_.main->Pipeline(commands, kVerifyReplyTimeout));
    size_t at = 0;
    CO_ASSIGN_OR_RETURN(std::vector<KeyRead> source_reads,
                        TakeKeyReads(*source_.main, replies, &at, keys.size(), ExpiryCommand()));
    uint64_t offset = 0;
    if (WantOffsets()) {
      CO_ASSIGN_OR_RETURN(offset, TakeSourceOffset(*source_.main, replies[at]));
    }
    std::vector<Suspect> still;
    for (size_t i = 0; i < ready.size(); ++i) {
      Suspect& s = ready[i];
      CO_ASSIGN_OR_RETURN(TargetRead target_read, co_await ReadTargetKey(s.target, s.key));
      CO_ASSIGN_OR_RETURN(std::optional<KeyDifference> difference,
                          co_await Compare(s.target, s.key, source_reads[i], target_read));
      if (!difference.has_value()) continue;  // settled: it was lag
      if (SameSourceRead(s.source, source_reads[i], options_.ttl_tolerance_ms)) {
        // The target applied the offset at which the source already held
        // this, and the source has not changed it since: lost.
        Report(db, {std::move(s.key), s.target, std::move(*difference), target_read.node});
        continue;
      }
      // The source changed it meanwhile: a write in flight; again.
      still.push_back(
          {std::move(s.key), s.target, std::move(*difference), offset, source_reads[i]});
    }
    suspects = std::move(still);
  }
  report_.unsettled += suspects.size();
  co_return absl::OkStatus();
}
}  // namespace reshard::engine
