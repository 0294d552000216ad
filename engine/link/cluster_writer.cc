#include "engine/link/cluster_writer.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "engine/base/absl_view.h"
#include "engine/base/status_context.h"
#include "engine/base/status_macros.h"
#include "engine/link/replication_info.h"

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

// Counts coroutines down to zero; Wait returns then.
class Countdown {
 public:
  explicit Countdown(const asio::any_io_executor& executor)
      : zero_(executor, asio::steady_timer::time_point::max()) {}
  void Add() { ++left_; }
  void Done() {
    if (--left_ == 0) zero_.cancel();
  }
  asio::awaitable<void> Wait() {
    while (left_ > 0) {
      asio::error_code ec;
      co_await zero_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  size_t left_ = 0;
  asio::steady_timer zero_;
};

// One master's part of a round: its commands written, then their replies
// (those that came before an error too).
asio::awaitable<void> Exchange(RedisConnection* connection,
                               const std::vector<const std::vector<std::string>*>* commands,
                               std::vector<RespValue>* replies, absl::Status* status,
                               std::shared_ptr<Countdown> countdown) {
  *status = co_await connection->SendAsync(*commands, kReplyTimeout);
  if (status->ok()) {
    *status = co_await connection->ReadRepliesKeepingPart(commands->size(), kReplyTimeout, replies);
  }
  countdown->Done();
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
    absl::StatusOr<std::unique_ptr<RedisConnection>> connected =
        co_await RedisConnection::Connect(executor_, endpoint, NodeName(index), kConnectTimeout);
    if (!connected.ok()) co_return NodeError(index, connected.status());
    std::unique_ptr<RedisConnection> connection = std::move(*connected);
    CO_RETURN_IF_ERROR(NodeError(index, co_await connection->Authenticate(options_.credentials)));
    // Its replication id and whether ROLE answers: what following its
    // failover needs (a user refused INFO or ROLE: a failover fails the job).
    if (history_.size() < nodes_.size()) history_.resize(nodes_.size());
    NodeHistory& history = history_[index];
    history = NodeHistory{};
    std::vector<std::string> info_command = {"INFO", "replication"};
    std::vector<std::string> role_command = {"ROLE"};
    CO_ASSIGN_OR_RETURN(RespValue info, co_await connection->Command(info_command));
    CO_ASSIGN_OR_RETURN(RespValue role, co_await connection->Command(role_command));
    if (!info.IsError() && !role.IsError()) {
      history.replid = InfoField(info.str, "master_replid");
      history.offsets = !history.replid.empty();
    }
    nodes_[index] = std::move(connection);
  }
  co_return nodes_[index].get();
}

asio::awaitable<absl::StatusOr<ClusterSlotMap>> ClusterWriter::FetchSlotMap(const HostPort& node) {
  RedisEndpoint endpoint{node, options_.credentials, options_.tls};
  std::string what = absl::StrCat("target '", options_.name, "' node ", node.ToString());
  CO_ASSIGN_OR_RETURN(
      std::unique_ptr<RedisConnection> connection,
      co_await RedisConnection::Connect(executor_, endpoint, what, kConnectTimeout));
  CO_RETURN_IF_ERROR(co_await connection->Authenticate(options_.credentials));
  std::vector<std::string> shards_command = {"CLUSTER", "SHARDS"};
  CO_ASSIGN_OR_RETURN(RespValue shards, co_await connection->Command(shards_command));
  absl::StatusOr<ClusterSlotMap> map;
  if (!shards.IsError()) {
    map = ClusterSlotMap::FromShards(shards, node);
  } else {
    // Before Redis 7.0: CLUSTER SLOTS.
    std::vector<std::string> slots_command = {"CLUSTER", "SLOTS"};
    CO_ASSIGN_OR_RETURN(RespValue slots, co_await connection->Command(slots_command));
    if (slots.IsError()) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          what, ": CLUSTER SLOTS failed: ", slots.str, " (is it a node of a Redis Cluster?)"));
    }
    map = ClusterSlotMap::FromSlots(slots, node);
  }
  connection->Close();
  if (!map.ok()) co_return WithContext(map.status(), absl::StrCat(what, ": "));
  co_return map;
}

asio::awaitable<absl::Status> ClusterWriter::Discover() {
  absl::Status last = absl::UnavailableError("no seed node");
  for (const HostPort& seed : options_.seeds) {
    std::string what = absl::StrCat("target '", options_.name, "' node ", seed.ToString());
    absl::StatusOr<ClusterSlotMap> map = co_await FetchSlotMap(seed);
    if (!map.ok()) {
      if (absl::IsUnavailable(map.status())) {
        last = map.status();
        continue;
      }
      co_return map.status();
    }
    if (std::string unserved = map->UnservedSlots(); !unserved.empty()) {
      co_return absl::FailedPreconditionError(absl::StrCat(
          what, ": slots ", unserved, " are served by no master (the cluster's state is not ok)"));
    }
    map_ = std::move(*map);
    nodes_.clear();
    history_.clear();
    version_.reset();
    max_bulk_bytes_ = kDefaultMaxBulkBytes;
    for (size_t i = 0; i < map_.masters().size(); ++i) {
      CO_ASSIGN_OR_RETURN(RedisConnection * node, co_await Node(i));
      std::vector<std::string> bulk_command = {"CONFIG", "GET", "proto-max-bulk-len"};
      CO_ASSIGN_OR_RETURN(RespValue bulk, co_await node->Command(bulk_command));
      uint64_t bulk_bytes = 0;
      if (!bulk.IsError() && bulk.elements.size() == 2 &&
          absl::SimpleAtoi(bulk.elements[1].str, &bulk_bytes) && bulk_bytes > 0) {
        max_bulk_bytes_ = std::min(max_bulk_bytes_, bulk_bytes);
      }
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
  std::vector<Pending> pending;
  pending.reserve(units.size());
  for (ClusterUnit& unit : units) pending.push_back(Pending{std::move(unit), -1});
  // CLUSTERDOWN lasts while a failed master's replica is being promoted.
  const absl::Duration window = std::max(options_.redirect_window, options_.failover_window);
  absl::Time deadline = absl::Now() + window;
  while (!pending.empty()) {
    std::vector<Pending> next;
    bool pause = false;
    const size_t sent = pending.size();
    CO_RETURN_IF_ERROR(co_await Round(pending, &next, &pause));
    units_applied_ += sent > next.size() ? sent - next.size() : 0;
    if (next.empty()) break;
    if (absl::Now() > deadline) {
      co_return absl::DeadlineExceededError(
          absl::StrCat("target '", options_.name, "': ", DescribeClusterUnit(next[0].unit),
                       " still redirected after ", absl::FormatDuration(window)));
    }
    pending = std::move(next);
    if (pause) {
      asio::steady_timer timer(executor_, kRetryPause);
      asio::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  co_return absl::OkStatus();
}

void ClusterWriter::NoteRole(int index, const RespValue& reply, int64_t* offset,
                             int64_t* replicated) {
  // ["master", <offset>, [[ip, port, <acked offset>], ...]]
  *offset = -1;
  *replicated = -1;
  if (reply.IsError() || reply.elements.size() < 3 || reply.elements[0].str != "master") return;
  *offset = reply.elements[1].integer;
  history_[index].last_reply_offset = *offset;
  int64_t lowest = -1;
  for (const RespValue& replica : reply.elements[2].elements) {
    int64_t acked = 0;
    if (replica.elements.size() < 3 || !absl::SimpleAtoi(replica.elements[2].str, &acked)) return;
    lowest = lowest < 0 ? acked : std::min(lowest, acked);
  }
  history_[index].replicas = reply.elements[2].elements.size();
  // No replica: none can be promoted lacking these writes (one that
  // attaches later starts from a full copy).
  *replicated = reply.elements[2].elements.empty() ? *offset : lowest;
}

asio::awaitable<absl::Status> ClusterWriter::Round(std::vector<Pending>& units,
                                                   std::vector<Pending>* next, bool* pause) {
  std::vector<int> node_of(units.size());
  for (size_t i = 0; i < units.size(); ++i) {
    node_of[i] = units[i].ask_node >= 0 ? units[i].ask_node : map_.owner(units[i].unit.slot);
    if (node_of[i] < 0) {
      co_return absl::FailedPreconditionError(
          absl::StrCat("target '", options_.name, "': slot ", units[i].unit.slot,
                       " is served by no master (", DescribeClusterUnit(units[i].unit), ")"));
    }
  }
  const size_t node_count = map_.masters().size();
  if (history_.size() < node_count) history_.resize(node_count);
  std::vector<std::vector<size_t>> per_node(node_count);
  for (size_t i = 0; i < units.size(); ++i) per_node[node_of[i]].push_back(i);
  // What each reply answers: kRole, kAsking, or a command of unit i.
  constexpr int64_t kRole = -1, kAsking = -2;
  std::vector<std::vector<int64_t>> layout(node_count);
  std::vector<absl::Status> failed(node_count);  // a master that stopped answering
  std::vector<bool> unsent(units.size(), false);
  // The units' own commands (not copies: units outlives the exchanges).
  static const std::vector<std::string> kRoleCommand = {"ROLE"};
  static const std::vector<std::string> kAskingCommand = {"ASKING"};
  std::vector<std::vector<const std::vector<std::string>*>> requests(node_count);
  std::vector<RedisConnection*> connections(node_count, nullptr);
  for (size_t node = 0; node < node_count; ++node) {
    if (per_node[node].empty()) continue;
    absl::StatusOr<RedisConnection*> connection = co_await Node(node);
    if (!connection.ok()) {
      if (!absl::IsUnavailable(connection.status())) co_return connection.status();
      failed[node] = connection.status();
      for (size_t i : per_node[node]) unsent[i] = true;
      continue;
    }
    // With offsets: ROLE before the first unit and after each unit that is
    // not idempotent (its end offset), and after the last.
    const bool offsets = history_[node].offsets;
    // A master without replicas cannot fail over: ROLE at the ends of the
    // batch only (it says when a replica attaches).
    const bool per_unit = offsets && history_[node].replicas > 0;
    std::vector<const std::vector<std::string>*> commands;
    auto role = [&] {
      commands.push_back(&kRoleCommand);
      layout[node].push_back(kRole);
    };
    if (offsets) role();
    for (size_t i : per_node[node]) {
      if (units[i].ask_node >= 0) {
        commands.push_back(&kAskingCommand);
        layout[node].push_back(kAsking);
      }
      for (const auto& command : units[i].unit.commands) {
        commands.push_back(&command);
        layout[node].push_back(i);
      }
      if (per_unit && !IsIdempotentClusterUnit(units[i].unit)) role();
    }
    if (offsets && layout[node].back() != kRole) role();
    for (const auto* command : commands) Counters(node).bytes_sent += RespCommandBytes(*command);
    requests[node] = std::move(commands);
    connections[node] = *connection;
  }
  // Every master at once: each gets its commands and answers while the
  // others do, and a master that stops reading holds only its own exchange
  // (never the job's thread in a blocking write).
  std::vector<std::vector<RespValue>> answers(node_count);
  std::vector<absl::Status> exchanged(node_count);
  auto countdown = std::make_shared<Countdown>(executor_);
  for (size_t node = 0; node < node_count; ++node) {
    if (connections[node] == nullptr) continue;
    countdown->Add();
    asio::co_spawn(
        executor_,
        Exchange(connections[node], &requests[node], &answers[node], &exchanged[node], countdown),
        asio::detached);
  }
  co_await countdown->Wait();
  std::vector<bool> retry(units.size(), false);
  for (size_t node = 0; node < node_count; ++node) {
    if (layout[node].empty()) continue;
    std::vector<RespValue> replies = std::move(answers[node]);
    if (failed[node].ok() && !exchanged[node].ok()) {
      if (!absl::IsUnavailable(exchanged[node])) co_return NodeError(node, exchanged[node]);
      failed[node] = NodeError(node, exchanged[node]);
    }
    NodeCounters& counters = Counters(node);
    NodeHistory& history = history_[node];
    const std::vector<int64_t>& kinds = layout[node];
    int64_t offset = -1;      // the master's offset after the last ROLE answered
    int64_t replicated = -1;  // its replicas' lowest acknowledged offset
    std::vector<ReplayUnit> applied;
    std::vector<size_t> awaiting_end;  // indices in `applied`
    size_t r = 0;
    while (r < kinds.size()) {
      if (kinds[r] == kRole) {
        if (r < replies.size()) {
          NoteRole(node, replies[r], &offset, &replicated);
          for (size_t a : awaiting_end) applied[a].end = offset;
          awaiting_end.clear();
        }
        ++r;
        continue;
      }
      const bool asked = kinds[r] == kAsking;
      if (asked) ++r;  // ASKING's +OK
      const size_t i = kinds[r];
      const size_t n = units[i].unit.commands.size();
      const size_t first = r;
      r += n;
      units[i].ask_node = -1;
      if (r > replies.size()) {
        // No reply: in flight when the master stopped answering.
        ReplayUnit doubt{std::move(units[i].unit), offset, -1, false, 0};
        doubt.idempotent = IsIdempotentClusterUnit(doubt.unit);
        if (history.offsets) applied.push_back(std::move(doubt));
        continue;
      }
      const bool multi = n > 1;
      // A redirection of any command of the unit: the unit (a MULTI is
      // aborted whole) goes again.
      const RespValue* redirect = nullptr;
      const RespValue* error = nullptr;
      for (size_t c = 0; c < n; ++c) {
        const RespValue& reply = replies[first + c];
        if (IsRedirect(reply)) {
          if (redirect == nullptr) redirect = &reply;
        } else if (reply.IsError() && !(multi && c + 1 == n)) {
          if (error == nullptr) error = &reply;
        }
      }
      if (redirect == nullptr && multi) {
        const RespValue& exec = replies[first + n - 1];
        if (exec.IsError()) error = &exec;
        for (const RespValue& reply : exec.elements) {
          if (reply.IsError() && error == nullptr) error = &reply;
        }
      }
      if (redirect != nullptr) {
        ++redirects_;
        retry[i] = true;
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
            units[i].ask_node = map_.AddNode(where.address);
          }
        } else {
          ++counters.retries;
          *pause = true;  // TRYAGAIN, CLUSTERDOWN: the migration or failover settles
        }
        continue;
      }
      if (error != nullptr) {
        co_return NodeError(node, absl::FailedPreconditionError(absl::StrCat(
                                      NodeName(node), ": ", DescribeClusterUnit(units[i].unit),
                                      ": -", error->str)));
      }
      counters.commands += n;
      if (units[i].unit.snapshot_key) ++counters.keys_restored;
      if (!history.offsets) continue;
      awaiting_end.push_back(applied.size());
      applied.push_back(ReplayUnit{std::move(units[i].unit), offset, -1, false, 0});
    }
    history.log.AddAndDropReplicated(std::move(applied), replicated);
    history.log.DropBeyond(options_.replay_log_bytes);
  }
  if (history_.size() < map_.masters().size()) history_.resize(map_.masters().size());
  // The units of a failed master its successor lacks go first, then the
  // redirected and unsent ones in batch order.
  for (size_t node = 0; node < node_count; ++node) {
    if (failed[node].ok()) continue;
    CO_ASSIGN_OR_RETURN(std::vector<ClusterUnit> resend,
                        co_await FollowFailover(node, failed[node]));
    for (ClusterUnit& unit : resend) next->push_back(Pending{std::move(unit), -1});
  }
  for (size_t i = 0; i < units.size(); ++i) {
    if (retry[i] || unsent[i]) next->push_back(std::move(units[i]));
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
