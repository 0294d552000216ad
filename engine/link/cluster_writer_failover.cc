// ClusterWriter: following a failover inside the target cluster (see
// cluster_writer.h and cluster_replay_log.h).

#include <algorithm>
#include <chrono>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/status_macros.h"
#include "engine/link/cluster_writer.h"
#include "engine/link/replication_info.h"

namespace reshard::engine {
namespace {

// "0-5460,7000": the slots, as ranges.
std::string SlotRanges(const std::vector<int>& slots) {
  std::vector<std::string> ranges;
  for (size_t i = 0; i < slots.size();) {
    size_t end = i;
    while (end + 1 < slots.size() && slots[end + 1] == slots[end] + 1) ++end;
    ranges.push_back(end == i ? absl::StrCat(slots[i]) : absl::StrCat(slots[i], "-", slots[end]));
    i = end + 1;
  }
  return absl::StrJoin(ranges, ",");
}

}  // namespace

asio::awaitable<absl::Status> ClusterWriter::RefreshSlotMap(int failed,
                                                            const std::vector<int>& slots) {
  // Any node may answer: the masters we know (but the failed one), then the seeds.
  std::vector<HostPort> ask;
  for (size_t i = 0; i < map_.masters().size(); ++i) {
    if (static_cast<int>(i) != failed) ask.push_back(map_.masters()[i]);
  }
  for (const HostPort& seed : options_.seeds) ask.push_back(seed);
  const HostPort& dead = map_.masters()[failed];
  absl::Status last = absl::UnavailableError("no node answered");
  for (const HostPort& node : ask) {
    if (node.host == dead.host && node.port == dead.port) continue;
    absl::StatusOr<ClusterSlotMap> fresh = co_await FetchSlotMap(node);
    if (!fresh.ok()) {
      last = fresh.status();
      continue;
    }
    std::vector<int> waiting;
    for (int slot : slots) {
      int owner = fresh->owner(slot);
      if (owner < 0) {
        waiting.push_back(slot);
        continue;
      }
      const HostPort& master = fresh->masters()[owner];
      if (master.host == dead.host && master.port == dead.port) waiting.push_back(slot);
    }
    if (!waiting.empty()) {
      last = absl::UnavailableError(absl::StrCat(node.ToString(), " says slots ",
                                                 SlotRanges(waiting), " have no other master yet"));
      continue;
    }
    for (int slot = 0; slot < kClusterSlots; ++slot) {
      if (fresh->owner(slot) >= 0) map_.SetOwner(slot, fresh->masters()[fresh->owner(slot)]);
    }
    co_return absl::OkStatus();
  }
  co_return last;
}

asio::awaitable<absl::StatusOr<std::vector<ClusterUnit>>> ClusterWriter::FollowFailover(
    int failed, absl::Status cause) {
  std::vector<int> slots;
  for (int slot = 0; slot < kClusterSlots; ++slot) {
    if (map_.owner(slot) == failed) slots.push_back(slot);
  }
  const std::string ranges = SlotRanges(slots);
  if (nodes_[failed] != nullptr) nodes_[failed]->Close();
  nodes_[failed].reset();
  NodeHistory history = std::move(history_[failed]);
  history_[failed] = NodeHistory{};
  // The applier's error context names the target.
  const std::string what = absl::StrCat("node ", map_.masters()[failed].ToString(), " (slots ",
                                        ranges, ") stopped answering (", cause.message(), ")");
  failing_over_ = what;
  failing_over_since_ = absl::Now();
  absl::Cleanup followed = [this] { failing_over_.clear(); };
  if (!history.offsets) {
    co_return absl::UnavailableError(absl::StrCat(
        what,
        ": its writes cannot be followed to another master exactly (INFO replication or "
        "ROLE was refused to reshardd's user)"));
  }
  // The cluster marks the node failed after cluster-node-timeout, then a
  // replica wins the election: read the map until another master serves
  // every slot of the failed one.
  const absl::Time deadline = absl::Now() + options_.failover_window;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    absl::Status refreshed = co_await RefreshSlotMap(failed, slots);
    if (refreshed.ok()) break;
    if (absl::Now() > deadline) {
      co_return absl::UnavailableError(
          absl::StrCat(what, " and no other master took over its slots within ",
                       absl::FormatDuration(options_.failover_window), ": ", refreshed.message()));
    }
    asio::steady_timer timer(executor_, backoff);
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
  // The new master must carry the failed one's history: then its
  // second_repl_offset - 1 is the last byte of the old stream it applied.
  int successor = -1;
  for (int slot : slots) {
    if (successor >= 0 && map_.owner(slot) != successor) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          what, ": its slots went to more than one master (", map_.masters()[successor].ToString(),
          ", ", map_.masters()[map_.owner(slot)].ToString(), "): cannot tell what each holds"));
    }
    successor = map_.owner(slot);
  }
  CO_ASSIGN_OR_RETURN(RedisConnection * connection, co_await Node(successor));
  std::vector<std::string> info_command = {"INFO", "replication"};
  CO_ASSIGN_OR_RETURN(RespValue info, co_await connection->Command(info_command));
  const std::string successor_name = map_.masters()[successor].ToString();
  absl::StatusOr<ReplicationInfo> replication =
      info.IsError() ? absl::FailedPreconditionError(info.str) : ParseReplicationInfo(info.str);
  if (!replication.ok() || replication->replid2 != history.replid ||
      replication->second_repl_offset <= 0) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", successor_name,
                     " took over its slots without its replication history ", history.replid, " (",
                     replication.ok() ? absl::StrCat("master_replid2 ", replication->replid2)
                                      : std::string(replication.status().message()),
                     "): cannot tell which of its writes it holds"));
  }
  // Redis sets second_repl_offset to its offset + 1 when it is promoted.
  const int64_t second_offset = replication->second_repl_offset;
  const int64_t held_offset = second_offset - 1;
  const size_t logged = history.log.size();
  absl::StatusOr<ClusterReplayLog::Resolution> resolution =
      history.log.Resolve(held_offset, history.last_reply_offset);
  if (!resolution.ok()) {
    co_return absl::FailedPreconditionError(absl::StrCat(what, ", failed over to ", successor_name,
                                                         ": ", resolution.status().message()));
  }
  ++failovers_;
  last_failover_ =
      absl::StrCat("node ", map_.masters()[failed].ToString(), " (slots ", ranges,
                   ") failed over to ", successor_name, " at its offset ", held_offset, ": of ",
                   logged, " writes not yet known on its replicas, ", resolution->held, " held, ",
                   resolution->resend.size(), " sent again");
  co_return std::move(resolution->resend);
}

}  // namespace reshard::engine
