// The target pass of a verification (verifier.h): every sampled target key
// must be selected by the target's filter and be on the source.

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

namespace reshard::engine {

asio::awaitable<absl::Status> Verifier::TargetPasses(int db) {
  for (size_t t = 0; t < targets_.size(); ++t) CO_RETURN_IF_ERROR(co_await TargetPass(db, t));
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Verifier::TargetPass(int db, size_t t) {
  if (OutsideTarget(targets_[t])) co_return absl::OkStatus();
  for (size_t n = 0; n < targets_[t].nodes.size(); ++n) {
    CO_RETURN_IF_ERROR(co_await TargetNodePass(db, t, n));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Verifier::TargetNodePass(int db, size_t t, size_t n) {
  VerifyTarget& target = targets_[t];
  VerifyServer& node = target.nodes[n];
  RedisConnection& connection = *node.side;
  RedisConnection& source = *source_.side;
  std::vector<std::vector<std::string>> scan_command = {
      {"SCAN", "0", "COUNT", std::to_string(options_.scan_count)}};
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> scan_reply,
                      co_await connection.Pipeline(scan_command));
  RespValue scan = std::move(scan_reply[0]);
  while (true) {
    CO_RETURN_IF_ERROR(Cancelled());
    CO_ASSIGN_OR_RETURN(auto step, ParseScanReply(connection, std::move(scan)));
    auto& [cursor, keys] = step;
    report_.keys_scanned += keys.size();
    const bool more = cursor != "0";
    if (more) {
      scan_command = {{"SCAN", cursor, "COUNT", std::to_string(options_.scan_count)}};
      CO_RETURN_IF_ERROR(connection.Send(scan_command));
    }
    std::vector<std::string> selected;
    size_t sampled = 0;
    for (std::string& key : keys) {
      if (!KeyInSample(key, options_.sample_fraction)) continue;
      ++sampled;
      if (!target.filter->Matches(key)) {
        // The job never writes a key to a target that does not select it.
        Report(db, {std::move(key),
                    t,
                    {VerifyProblemKind::kStray, absl::StrCat("not selected by the target's filter ",
                                                             target.filter->Describe())},
                    &node});
      } else if (target.NodeOf(key) != n) {
        // A stray unless its slot is on the move and the cluster sends
        // clients here: looked up after the passes.
        misplaced_.push_back({std::move(key), t, n});
      } else {
        selected.push_back(std::move(key));
      }
    }
    CO_RETURN_IF_ERROR(co_await CheckOnSource(t, std::move(selected)));
    if (more) {
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> next,
                          co_await connection.ReadReplies(1, kVerifyReplyTimeout));
      scan = std::move(next[0]);
    }
    report_.target_keys_checked += sampled;
    Progress(false);
    co_await Pace(&target_pace_, sampled);
    if (!more) break;
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Verifier::CheckOnSource(size_t t, std::vector<std::string> keys) {
  if (keys.empty()) co_return absl::OkStatus();
  RedisConnection& source = *source_.side;
  std::vector<std::vector<std::string>> commands(1, {"EXISTS"});
  commands[0].insert(commands[0].end(), keys.begin(), keys.end());
  if (WantOffsets()) commands.push_back({"INFO", "replication"});
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                      co_await source.Pipeline(commands, kVerifyReplyTimeout));
  if (replies[0].type != RespValue::Type::kInteger) {
    co_return UnexpectedReply(source, "EXISTS", replies[0]);
  }
  uint64_t offset = 0;
  if (WantOffsets()) {
    CO_ASSIGN_OR_RETURN(offset, TakeSourceOffset(source, replies[1]));
  }
  if (static_cast<uint64_t>(replies[0].integer) == keys.size()) co_return absl::OkStatus();
  commands.clear();
  for (const std::string& key : keys) commands.push_back({"EXISTS", key});
  if (WantOffsets()) commands.push_back({"INFO", "replication"});
  CO_ASSIGN_OR_RETURN(replies, co_await source.Pipeline(commands, kVerifyReplyTimeout));
  if (WantOffsets()) {
    CO_ASSIGN_OR_RETURN(offset, TakeSourceOffset(source, replies.back()));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (replies[i].type != RespValue::Type::kInteger) {
      co_return UnexpectedReply(source, "EXISTS", replies[i]);
    }
    if (replies[i].integer != 0) continue;
    suspects_.push_back(
        {std::move(keys[i]), t, {VerifyProblemKind::kStray, "not on the source"}, offset, {}});
  }
  co_return absl::OkStatus();
}
}  // namespace reshard::engine
