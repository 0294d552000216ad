// The source pass of a verification (verifier.h): every sampled source key
// read on the source and on each target whose filter selects it, compared.

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
#include "engine/link/redis_reply.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {

absl::StatusOr<Verifier::SourceBatch> Verifier::StartBatch(RespValue scan) {
  SourceBatch batch;
  ASSIGN_OR_RETURN(auto step, ParseScanReply(*source_.main, std::move(scan)));
  std::string cursor = std::move(step.first);
  batch.keys = std::move(step.second);
  const std::vector<std::string>& keys = batch.keys;
  batch.selected.resize(targets_.size());
  for (size_t t = 0; t < targets_.size(); ++t) batch.selected[t].resize(targets_[t].nodes.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    bool sampled = KeyInSample(keys[i], options_.sample_fraction);
    if (sampled) batch.sampled.push_back(i);
    if (!sampled) continue;
    for (size_t t = 0; t < targets_.size(); ++t) {
      if (targets_[t].filter->Matches(keys[i])) {
        batch.selected[t][targets_[t].NodeOf(keys[i])].push_back(i);
      }
    }
  }
  report_.keys_scanned += keys.size();
  batch.more = cursor != "0";
  const std::string expiry = ExpiryCommand();
  std::string request;
  batch.source_commands = AppendKeyReads(keys, batch.sampled, expiry, &request);
  if (WantOffsets()) {
    AppendCommand(&request, {"INFO", "replication"});
    ++batch.source_commands;
  }
  if (batch.more) {
    AppendCommand(&request, {"SCAN", cursor, "COUNT", std::to_string(options_.scan_count)});
    ++batch.source_commands;
  }
  RETURN_IF_ERROR(source_.main->WriteSync(request));
  for (size_t t = 0; t < targets_.size(); ++t) {
    if (OutsideTarget(targets_[t])) continue;
    for (size_t n = 0; n < targets_[t].nodes.size(); ++n) {
      request.clear();
      if (AppendKeyReads(keys, batch.selected[t][n], expiry, &request) == 0) continue;
      RETURN_IF_ERROR(targets_[t].nodes[n].main->WriteSync(request));
    }
  }
  return batch;
}

asio::awaitable<absl::StatusOr<std::optional<RespValue>>> Verifier::ReadSourceReplies(
    SourceBatch& batch) {
  RedisConnection& source = *source_.main;
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                      co_await source.ReadReplies(batch.source_commands, kVerifyReplyTimeout));
  size_t at = 0;
  CO_ASSIGN_OR_RETURN(batch.source_reads,
                      TakeKeyReads(source, replies, &at, batch.sampled.size(), ExpiryCommand()));
  if (WantOffsets()) {
    CO_ASSIGN_OR_RETURN(batch.offset, TakeSourceOffset(source, replies[at]));
    ++at;
  }
  if (!batch.more) co_return std::nullopt;
  co_return std::move(replies[at]);
}

asio::awaitable<absl::Status> Verifier::CompareBatch(SourceBatch& batch) {
  std::vector<size_t> read_of(batch.keys.size());  // key index -> source_reads index
  for (size_t j = 0; j < batch.sampled.size(); ++j) read_of[batch.sampled[j]] = j;
  for (size_t t = 0; t < targets_.size(); ++t) {
    for (size_t n = 0; n < batch.selected[t].size(); ++n) {
      CO_RETURN_IF_ERROR(co_await CompareBatchOn(batch, read_of, t, n));
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Verifier::CompareBatchOn(SourceBatch& batch,
                                                       const std::vector<size_t>& read_of, size_t t,
                                                       size_t n) {
  const std::vector<size_t>& selected = batch.selected[t][n];
  if (OutsideTarget(targets_[t])) {
    for (size_t i : selected) {
      if (!batch.source_reads[read_of[i]].exists) continue;
      Report(db_, {batch.keys[i],
                   t,
                   {VerifyProblemKind::kMissing,
                    absl::StrCat("in db ", db_, ": a cluster target has db 0 only")}});
    }
    co_return absl::OkStatus();
  }
  VerifyServer& node = targets_[t].nodes[n];
  RedisConnection& connection = *node.main;
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                      co_await connection.ReadReplies(2 * selected.size(), kVerifyReplyTimeout));
  size_t at = 0;
  std::vector<size_t> redirected;
  CO_ASSIGN_OR_RETURN(std::vector<KeyRead> target_reads,
                      TakeKeyReads(connection, replies, &at, selected.size(), ExpiryCommand(),
                                   targets_[t].is_cluster() ? &redirected : nullptr));
  size_t next_redirected = 0;
  for (size_t j = 0; j < selected.size(); ++j) {
    const KeyRead& source_read = batch.source_reads[read_of[selected[j]]];
    const std::string& key = batch.keys[selected[j]];
    if (next_redirected < redirected.size() && redirected[next_redirected] == j) {
      // A slot on the move: read where the cluster sends it, after the pass.
      ++next_redirected;
      if (source_read.exists) redirected_.push_back({key, t, source_read, batch.offset});
      continue;
    }
    // A key gone from the source since the SCAN is the target pass's.
    if (!source_read.exists) continue;
    Judge(key, t, source_read, {std::move(target_reads[j]), &node, false}, batch.offset);
  }
  co_return absl::OkStatus();
}

void Verifier::Judge(const std::string& key, size_t t, const KeyRead& source, TargetRead target,
                     uint64_t offset) {
  KeyDifference difference;
  QuickVerdict verdict = Quick(source, target.read, &difference);
  if (verdict == QuickVerdict::kEqual) return;
  if (verdict == QuickVerdict::kValuesDiffer) {
    // Compared by value after the pass, when no read is in flight.
    by_value_.push_back({key, t, source, std::move(target), offset});
    return;
  }
  suspects_.push_back({key, t, std::move(difference), offset, source});
}

asio::awaitable<absl::Status> Verifier::SourcePass(int db) {
  std::vector<std::vector<std::string>> first = {
      {"SCAN", "0", "COUNT", std::to_string(options_.scan_count)}};
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> scan_reply, co_await source_.main->Pipeline(first));
  CO_ASSIGN_OR_RETURN(SourceBatch batch, StartBatch(std::move(scan_reply[0])));
  while (true) {
    CO_RETURN_IF_ERROR(Cancelled());
    CO_ASSIGN_OR_RETURN(std::optional<RespValue> scan, co_await ReadSourceReplies(batch));
    std::optional<SourceBatch> next;
    if (scan.has_value()) {
      CO_ASSIGN_OR_RETURN(next, StartBatch(std::move(*scan)));
    }
    CO_RETURN_IF_ERROR(co_await CompareBatch(batch));
    report_.keys_checked += batch.sampled.size();
    Progress(false);
    co_await Pace(&source_pace_, batch.sampled.size());
    if (!next.has_value()) break;
    batch = std::move(*next);
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Verifier::CompareByValue() {
  std::vector<ByValue> pending = std::move(by_value_);
  by_value_.clear();
  for (ByValue& k : pending) {
    CO_ASSIGN_OR_RETURN(std::optional<KeyDifference> difference,
                        co_await CompareValues(k.target, k.key, k.source, k.target_read));
    if (difference.has_value()) {
      suspects_.push_back(
          {std::move(k.key), k.target, std::move(*difference), k.offset, std::move(k.source)});
    }
  }
  co_return absl::OkStatus();
}

QuickVerdict Verifier::Quick(const KeyRead& source, const KeyRead& target,
                             KeyDifference* difference) {
  QuickVerdict verdict = QuickCompare(source, target, options_.ttl_tolerance_ms, absolute_,
                                      absl::ToUnixMillis(absl::Now()), difference);
  if (verdict == QuickVerdict::kSourceAbsent) {
    *difference = {VerifyProblemKind::kStray, "not on the source"};
    return QuickVerdict::kDifferent;
  }
  return verdict;
}

asio::awaitable<absl::StatusOr<std::optional<KeyDifference>>> Verifier::Compare(
    size_t t, const std::string& key, const KeyRead& source, const TargetRead& target) {
  KeyDifference difference;
  switch (Quick(source, target.read, &difference)) {
    case QuickVerdict::kEqual:
    case QuickVerdict::kSourceAbsent:
      co_return std::nullopt;
    case QuickVerdict::kDifferent:
      co_return difference;
    case QuickVerdict::kValuesDiffer:
      break;
  }
  co_return co_await CompareValues(t, key, source, target);
}

asio::awaitable<absl::StatusOr<std::optional<KeyDifference>>> Verifier::CompareValues(
    size_t t, const std::string& key, const KeyRead& source, const TargetRead& target) {
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  VerifyServer& server = target.node != nullptr ? *target.node : targets_[t].ServerOf(key);
  const bool field_expiry = source_.version.has_value() && HasFieldExpiry(*source_.version) &&
                            server.version.has_value() && HasFieldExpiry(*server.version);
  CO_ASSIGN_OR_RETURN(std::optional<LogicalValue> source_value,
                      co_await ReadLogicalValue(*source_.main, key, field_expiry));
  CO_ASSIGN_OR_RETURN(std::optional<LogicalValue> target_value,
                      co_await ReadLogicalValue(*server.main, key, field_expiry, target.asking));
  if (!source_value.has_value()) {
    co_return target_value.has_value()
        ? std::optional(KeyDifference{VerifyProblemKind::kStray, "not on the source"})
        : std::nullopt;
  }
  if (!target_value.has_value()) {
    co_return KeyDifference{VerifyProblemKind::kMissing, "not on the target"};
  }
  if (std::optional<KeyDifference> logical =
          CompareLogical(*source_value, *target_value, options_.ttl_tolerance_ms, now_ms)) {
    if (logical->kind == VerifyProblemKind::kDifferentValue) {
      logical->detail =
          absl::StrCat(logical->detail, "; DUMP ", source.dump.size(), " bytes on the source, ",
                       target.read.dump.size(), " on the target");
    }
    co_return logical;
  }
  if (std::optional<std::string> ttl = CompareExpiry(
          source.expiry, target.read.expiry, options_.ttl_tolerance_ms, absolute_, now_ms)) {
    co_return KeyDifference{VerifyProblemKind::kDifferentTtl, std::move(*ttl)};
  }
  co_return std::nullopt;
}
}  // namespace reshard::engine
