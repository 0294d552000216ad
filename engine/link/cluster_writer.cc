#include "engine/link/cluster_writer.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/status_context.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(10);
constexpr absl::Duration kReplyTimeout = absl::Seconds(60);
constexpr auto kRetryPause = std::chrono::milliseconds(50);

bool IsRedirect(const RespValue& reply) {
  return reply.IsError() &&
         (absl::StartsWith(reply.str, "MOVED ") || absl::StartsWith(reply.str, "ASK ") ||
          absl::StartsWith(reply.str, "TRYAGAIN") || absl::StartsWith(reply.str, "CLUSTERDOWN"));
}

// The RESP size of `command` as a client sends it (an array of bulk strings).
uint64_t RespCommandBytes(const std::vector<std::string>& command) {
  uint64_t bytes = 3 + std::to_string(command.size()).size();
  for (const std::string& arg : command) {
    bytes += 5 + std::to_string(arg.size()).size() + arg.size();
  }
  return bytes;
}

}  // namespace

ClusterWriter::NodeCounters& ClusterWriter::Counters(int index) {
  if (counters_.size() <= static_cast<size_t>(index)) counters_.resize(index + 1);
  return counters_[index];
}

absl::Status ClusterWriter::NodeError(int index, absl::Status status) {
  if (!status.ok()) Counters(index).last_error = std::string(status.message());
  return status;
}

void ClusterWriter::NoteAppliedThrough(uint64_t offset) {
  if (counters_.size() < map_.masters().size()) counters_.resize(map_.masters().size());
  for (NodeCounters& node : counters_) node.acked_offset = std::max(node.acked_offset, offset);
}

ClusterWriter::ClusterWriter(Options options, asio::any_io_executor executor)
    : options_(std::move(options)), executor_(std::move(executor)) {}

ClusterWriter::~ClusterWriter() { Close(); }

void ClusterWriter::Close() {
  for (auto& node : nodes_) {
    if (node != nullptr) node->Close();
  }
}

std::string ClusterWriter::NodeName(int index) const {
  return absl::StrCat("target '", options_.name, "' node ", map_.masters()[index].ToString());
}

asio::awaitable<absl::StatusOr<RedisConnection*>> ClusterWriter::Node(int index) {
  if (nodes_.size() < map_.masters().size()) nodes_.resize(map_.masters().size());
  if (nodes_[index] == nullptr) {
    RedisEndpoint endpoint{map_.masters()[index], options_.credentials, options_.tls};
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        co_await RedisConnection::Connect(executor_, endpoint, NodeName(index), kConnectTimeout);
    if (!connection.ok()) co_return NodeError(index, connection.status());
    CO_RETURN_IF_ERROR(
        NodeError(index, co_await (*connection)->Authenticate(options_.credentials)));
    nodes_[index] = std::move(*connection);
  }
  co_return nodes_[index].get();
}

asio::awaitable<absl::Status> ClusterWriter::Discover() {
  absl::Status last = absl::UnavailableError("no seed node");
  for (const HostPort& seed : options_.seeds) {
    RedisEndpoint endpoint{seed, options_.credentials, options_.tls};
    std::string what = absl::StrCat("target '", options_.name, "' node ", seed.ToString());
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        co_await RedisConnection::Connect(executor_, endpoint, what, kConnectTimeout);
    if (!connection.ok()) {
      last = connection.status();
      continue;
    }
    CO_RETURN_IF_ERROR(co_await (*connection)->Authenticate(options_.credentials));
    std::vector<std::string> shards_command = {"CLUSTER", "SHARDS"};
    CO_ASSIGN_OR_RETURN(RespValue shards, co_await (*connection)->Command(shards_command));
    absl::StatusOr<ClusterSlotMap> map;
    if (!shards.IsError()) {
      map = ClusterSlotMap::FromShards(shards, seed);
    } else {
      // Before Redis 7.0: CLUSTER SLOTS.
      std::vector<std::string> slots_command = {"CLUSTER", "SLOTS"};
      CO_ASSIGN_OR_RETURN(RespValue slots, co_await (*connection)->Command(slots_command));
      if (slots.IsError()) {
        co_return absl::FailedPreconditionError(absl::StrCat(
            what, ": CLUSTER SLOTS failed: ", slots.str, " (is it a node of a Redis Cluster?)"));
      }
      map = ClusterSlotMap::FromSlots(slots, seed);
    }
    if (!map.ok()) co_return WithContext(map.status(), absl::StrCat(what, ": "));
    (*connection)->Close();
    if (std::string unserved = map->UnservedSlots(); !unserved.empty()) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          what, ": slots ", unserved, " are served by no master (the cluster's state is not ok)"));
    }
    map_ = std::move(*map);
    nodes_.clear();
    version_.reset();
    for (size_t i = 0; i < map_.masters().size(); ++i) {
      CO_ASSIGN_OR_RETURN(RedisConnection * node, co_await Node(i));
      std::vector<std::string> info_command = {"INFO", "server"};
      CO_ASSIGN_OR_RETURN(RespValue info, co_await node->Command(info_command));
      std::optional<ServerVersion> version =
          info.IsError() ? std::nullopt : ServerVersionFromInfo(info.str);
      if (!version.has_value()) continue;
      // The oldest master decides what the cluster loads.
      if (!version_.has_value() || version->rdb_version < version_->rdb_version) {
        version_ = version;
      }
    }
    co_return absl::OkStatus();
  }
  std::string context = absl::StrCat("target '", options_.name, "': no cluster node answered: ");
  co_return WithContext(last, context);
}

asio::awaitable<absl::Status> ClusterWriter::Apply(std::vector<ClusterUnit> units) {
  // A unit for every master is a barrier: what comes before it is applied first.
  std::vector<ClusterUnit> segment;
  for (ClusterUnit& unit : units) {
    if (unit.slot != ClusterUnit::kEveryMaster) {
      segment.push_back(std::move(unit));
      continue;
    }
    CO_RETURN_IF_ERROR(co_await ApplySegment(std::move(segment)));
    segment.clear();
    std::vector<ClusterUnit> copies;
    for (size_t node = 0; node < map_.masters().size(); ++node) {
      // Only the masters that own slots (not nodes an ASK named).
      bool owns = false;
      for (int slot = 0; slot < kClusterSlots && !owns; ++slot)
        owns = map_.owner(slot) == (int)node;
      if (!owns) continue;
      for (int slot = 0; slot < kClusterSlots; ++slot) {
        if (map_.owner(slot) == (int)node) {
          copies.push_back(ClusterUnit{slot, unit.commands, unit.offset});
          break;
        }
      }
    }
    CO_RETURN_IF_ERROR(co_await ApplySegment(std::move(copies)));
  }
  co_return co_await ApplySegment(std::move(segment));
}

asio::awaitable<absl::Status> ClusterWriter::ApplySegment(std::vector<ClusterUnit> units) {
  std::vector<int> ask_node(units.size(), -1);
  std::vector<size_t> pending(units.size());
  for (size_t i = 0; i < units.size(); ++i) pending[i] = i;
  absl::Time deadline = absl::Now() + options_.redirect_window;
  while (!pending.empty()) {
    std::vector<size_t> retry;
    bool pause = false;
    std::vector<ClusterUnit> round;
    std::vector<int> round_ask;
    for (size_t i : pending) {
      round.push_back(std::move(units[i]));
      round_ask.push_back(ask_node[i]);
    }
    CO_RETURN_IF_ERROR(co_await Round(round, round_ask, &retry, &pause));
    units_applied_ += round.size() - retry.size();
    if (retry.empty()) break;
    if (absl::Now() > deadline) {
      co_return absl::DeadlineExceededError(
          absl::StrCat("target '", options_.name, "': ", DescribeClusterUnit(round[retry[0]]),
                       " still redirected after ", absl::FormatDuration(options_.redirect_window)));
    }
    units.clear();
    ask_node.clear();
    pending.clear();
    for (size_t r : retry) {
      pending.push_back(units.size());
      units.push_back(std::move(round[r]));
      ask_node.push_back(round_ask[r]);
    }
    if (pause) {
      asio::steady_timer timer(executor_, kRetryPause);
      asio::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> ClusterWriter::Round(std::vector<ClusterUnit>& units,
                                                   std::vector<int>& ask_node,
                                                   std::vector<size_t>* retry, bool* pause) {
  std::vector<int> node_of(units.size());
  for (size_t i = 0; i < units.size(); ++i) {
    node_of[i] = ask_node[i] >= 0 ? ask_node[i] : map_.owner(units[i].slot);
    if (node_of[i] < 0) {
      co_return absl::FailedPreconditionError(
          absl::StrCat("target '", options_.name, "': slot ", units[i].slot,
                       " is served by no master (", DescribeClusterUnit(units[i]), ")"));
    }
  }
  const size_t node_count = map_.masters().size();
  std::vector<std::vector<size_t>> per_node(node_count);
  for (size_t i = 0; i < units.size(); ++i) per_node[node_of[i]].push_back(i);
  std::vector<size_t> sent(node_count, 0);
  for (size_t node = 0; node < node_count; ++node) {
    if (per_node[node].empty()) continue;
    std::vector<std::vector<std::string>> commands;
    for (size_t i : per_node[node]) {
      if (ask_node[i] >= 0) commands.push_back({"ASKING"});
      for (const auto& command : units[i].commands) commands.push_back(command);
    }
    CO_ASSIGN_OR_RETURN(RedisConnection * connection, co_await Node(node));
    CO_RETURN_IF_ERROR(NodeError(node, connection->Send(commands)));
    for (const auto& command : commands) Counters(node).bytes_sent += RespCommandBytes(command);
    sent[node] = commands.size();
  }
  std::vector<bool> redirected(units.size(), false);
  for (size_t node = 0; node < node_count; ++node) {
    if (sent[node] == 0) continue;
    absl::StatusOr<std::vector<RespValue>> read =
        co_await nodes_[node]->ReadReplies(sent[node], kReplyTimeout);
    if (!read.ok()) co_return NodeError(node, read.status());
    std::vector<RespValue>& replies = *read;
    NodeCounters& counters = Counters(node);
    size_t r = 0;
    for (size_t i : per_node[node]) {
      const bool asked = ask_node[i] >= 0;
      if (asked) ++r;  // ASKING's +OK
      const size_t n = units[i].commands.size();
      const bool multi = n > 1;
      // A redirection of any command of the unit: the unit (a MULTI is
      // aborted whole) goes again.
      const RespValue* redirect = nullptr;
      const RespValue* error = nullptr;
      for (size_t c = 0; c < n; ++c) {
        const RespValue& reply = replies[r + c];
        if (IsRedirect(reply)) {
          if (redirect == nullptr) redirect = &reply;
        } else if (reply.IsError() && !(multi && c + 1 == n)) {
          if (error == nullptr) error = &reply;
        }
      }
      if (redirect == nullptr && multi) {
        const RespValue& exec = replies[r + n - 1];
        if (exec.IsError()) error = &exec;
        for (const RespValue& reply : exec.elements) {
          if (reply.IsError() && error == nullptr) error = &reply;
        }
      }
      r += n;
      ask_node[i] = -1;
      if (redirect != nullptr) {
        ++redirects_;
        redirected[i] = true;
        if (absl::StartsWith(redirect->str, "MOVED ") || absl::StartsWith(redirect->str, "ASK ")) {
          CO_ASSIGN_OR_RETURN(ClusterRedirect where, ParseClusterRedirect(redirect->str));
          if (where.address.host.empty()) where.address.host = map_.masters()[node].host;
          if (!where.ask) {
            ++counters.moved;
            map_.SetOwner(where.slot, where.address);
          } else if (multi) {
            // ASKING covers one command, not a transaction: wait until the
            // migration of the slot ends (then MOVED).
            ++counters.retries;
            *pause = true;
          } else {
            ++counters.ask;
            ask_node[i] = map_.AddNode(where.address);
          }
        } else {
          ++counters.retries;
          *pause = true;  // TRYAGAIN, CLUSTERDOWN: the migration or failover settles
        }
        retry->push_back(i);
        continue;
      }
      if (error != nullptr) {
        co_return NodeError(
            node, absl::FailedPreconditionError(absl::StrCat(
                      NodeName(node), ": ", DescribeClusterUnit(units[i]), ": -", error->str)));
      }
      counters.commands += n;
      if (!units[i].commands.empty() && !units[i].commands[0].empty() &&
          units[i].commands[0][0] == "RESTORE") {
        ++counters.keys_restored;
      }
    }
  }
  // Retried in batch order.
  std::sort(retry->begin(), retry->end());
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
