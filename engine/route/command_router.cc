#include "engine/route/command_router.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/resp/resp_writer.h"
#include "engine/route/hash_slot.h"

namespace reshard::engine {
namespace {

// Keys longer than this are cut in error messages, and at most this many
// keys are listed.
constexpr size_t kMaxKeyInMessage = 64;
constexpr size_t kMaxKeysInMessage = 8;

std::string QuoteKey(std::string_view key) {
  std::string shown =
      absl::CHexEscape(absl::string_view(key.data(), std::min(key.size(), kMaxKeyInMessage)));
  return absl::StrCat("'", shown, key.size() > kMaxKeyInMessage ? "...'" : "'");
}

// The command's name as the source sent it, with its subcommand, for errors.
std::string CommandName(const CommandInfo& info, const RespCommand& cmd) {
  std::string name(cmd.args[0]);
  if (info.name.find('|') != std::string::npos && cmd.args.size() > 1) {
    absl::StrAppend(&name, " ", std::string(cmd.args[1]));
  }
  return name;
}

// SORT ... BY/GET with a '*' pattern reads other keys (Redis's
// lookupKeyByPattern), which may live on another target.
bool SortReadsOtherKeys(std::span<const std::string_view> args) {
  for (size_t i = 2; i + 1 < args.size(); ++i) {
    absl::string_view arg = AsAbsl(args[i]);
    if (absl::EqualsIgnoreCase(arg, "LIMIT")) {
      i += 2;
    } else if (absl::EqualsIgnoreCase(arg, "BY") || absl::EqualsIgnoreCase(arg, "GET")) {
      if (args[i + 1].find('*') != std::string_view::npos) return true;
      i += 1;
    }
  }
  return false;
}

}  // namespace

CommandRouter::CommandRouter(std::vector<const KeyFilter*> filters, const CommandTable* table,
                             std::vector<std::string> target_names)
    : filters_(std::move(filters)),
      table_(table),
      names_(std::move(target_names)),
      counters_(filters_.size()),
      dbs_(filters_.size()),
      txn_(filters_.size()),
      expiry_(filters_.size()),
      cluster_(filters_.size(), 0) {
  if (names_.size() != filters_.size()) names_.clear();
}

void CommandRouter::SetTargetIsCluster(size_t i, bool cluster) {
  cluster_[i] = cluster ? 1 : 0;
  any_cluster_ = std::find(cluster_.begin(), cluster_.end(), 1) != cluster_.end();
}

std::string CommandRouter::TargetLabel(size_t i) const {
  return names_.empty() ? absl::StrCat(i) : names_[i];
}

std::string CommandRouter::TargetList(const uint8_t* selected) const {
  std::string list;
  for (size_t i = 0; i < filters_.size(); ++i) {
    if (!selected[i]) continue;
    absl::StrAppend(&list, list.empty() ? "" : ", ", TargetLabel(i));
  }
  return list;
}

std::string& CommandRouter::Sink(size_t i, std::vector<std::string>* out) {
  return txn_.open() ? txn_.Part(i) : (*out)[i];
}

std::string& CommandRouter::SinkInDb(size_t i, int db, std::vector<std::string>* out) {
  if (txn_.open()) return txn_.PartInDb(i, db);
  std::string& sink = (*out)[i];
  dbs_.SelectForTarget(i, db, &sink);
  return sink;
}

absl::Status CommandRouter::Route(const RespCommand& cmd, std::vector<std::string>* out) {
  return Route(cmd, out, nullptr);
}

absl::Status CommandRouter::Route(const RespCommand& cmd, std::vector<std::string>* out,
                                  std::vector<Materialization>* materialize) {
  if (out->size() != filters_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Route: ", out->size(), " outputs for ", filters_.size(), " targets"));
  }
  if (cmd.args.empty()) return absl::OkStatus();  // a keepalive: targets get our own
  const CommandInfo* info = table_->Find(cmd.args);
  if (info == nullptr) {
    std::string name(cmd.args[0]);
    const CommandInfo* container = table_->FindByName(cmd.args[0]);
    if (container != nullptr && container->has_subcommands && cmd.args.size() > 1) {
      absl::StrAppend(&name, " ", std::string(cmd.args[1]));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("unknown command ", QuoteKey(name), ": cannot route it"));
  }
  switch (info->route) {
    case RouteKind::kKeyed:
    case RouteKind::kSplitKeys:
      return RouteByKeys(*info, cmd, out, materialize);
    case RouteKind::kBroadcast:
    case RouteKind::kBroadcastInDb: {
      const bool in_db = info->route == RouteKind::kBroadcastInDb;
      if (in_db) RETURN_IF_ERROR(dbs_.RequireSourceDb(info->name));
      RouteBroadcast(cmd, in_db, out);
      if (materialize != nullptr && !skips_.empty()) {
        // FLUSHALL, FLUSHDB and SWAPDB changed the targets' copies of skipped
        // keys, whose later commands are still to be skipped: copy them again
        // as they are now.
        refs_.clear();
        skips_.AppendAffectedBy(*info, cmd, dbs_.source_db(), &refs_);
        if (!refs_.empty()) {
          // The copies they changed are sent again, whatever the windows held.
          skips_.StopCovering();
          AddToRequests(refs_, materialize);
        }
      }
      return absl::OkStatus();
    }
    case RouteKind::kSelect: {
      if (cmd.args.size() != 2) {
        return absl::InvalidArgumentError("SELECT: wrong number of arguments");
      }
      std::optional<int> db = ParseDbIndex(cmd.args[1]);
      if (!db) {
        return absl::InvalidArgumentError(
            absl::StrCat("SELECT ", QuoteKey(cmd.args[1]), ": not a db index"));
      }
      // Not forwarded: each target gets its own SELECT before its next command.
      dbs_.SetSourceDb(*db);
      return absl::OkStatus();
    }
    case RouteKind::kMulti:
      return txn_.Begin(dbs_);
    case RouteKind::kExec:
      return txn_.Commit(&dbs_, out);
    case RouteKind::kDiscard:
      return txn_.Discard(&dbs_);
    case RouteKind::kIntercepted:
      return absl::FailedPreconditionError(absl::StrCat(
          CommandName(*info, cmd), " reached the router: the job must handle it before routing"));
  }
  return absl::InternalError("unhandled route kind");
}

void CommandRouter::RouteBroadcast(const RespCommand& cmd, bool in_db,
                                   std::vector<std::string>* out) {
  for (size_t i = 0; i < filters_.size(); ++i) {
    std::string& sink = in_db ? SinkInDb(i, dbs_.source_db(), out) : Sink(i, out);
    sink.append(cmd.wire);
    ++counters_[i].commands_kept;
  }
}

absl::Status CommandRouter::FindKeys(const CommandInfo& info, const RespCommand& cmd, int db) {
  keys_.clear();
  read_only_.clear();
  RETURN_IF_ERROR(FindCommandKeys(info, cmd.args, &keys_, &read_only_));
  if (keys_.empty()) {
    // EVAL with no keys, or a SORT without keys: nothing says where it belongs.
    return absl::FailedPreconditionError(
        absl::StrCat(CommandName(info, cmd), " names no keys: cannot choose its targets"));
  }
  if (info.finder == KeyFinder::kSort && keys_.size() > 1 && SortReadsOtherKeys(cmd.args)) {
    return absl::FailedPreconditionError(
        absl::StrCat(CommandName(info, cmd), " ", QuoteKey(cmd.args[1]),
                     " ... STORE with a BY/GET pattern reads keys that may live on other targets: "
                     "not supported yet"));
  }
  if (db == kUnknownDb) {
    return absl::FailedPreconditionError(
        absl::StrCat(info.name, " before the source's db is known (no SELECT yet)"));
  }
  FillKeyRefs(info, cmd, db);
  return absl::OkStatus();
}

bool CommandRouter::SelectTargets(const RespCommand& cmd) {
  const size_t n = filters_.size();
  const size_t k = keys_.size();
  selected_.assign(k * n, 0);
  bool same = true;
  for (size_t j = 0; j < k; ++j) {
    std::string_view key = cmd.args[keys_[j]];
    uint8_t* row = &selected_[j * n];
    for (size_t i = 0; i < n; ++i) row[i] = filters_[i]->Matches(key) ? 1 : 0;
    if (j > 0 && std::memcmp(row, selected_.data(), n) != 0) same = false;
  }
  return same;
}

bool CommandRouter::SplitsAcrossTargets(const CommandInfo& info) {
  return info.route == RouteKind::kSplitKeys || info.name == "SMOVE";
}

bool CommandRouter::RoutesWhole(const CommandInfo& info, const RespCommand& cmd) {
  if (!SelectTargets(cmd)) return false;
  return !any_cluster_ || info.route == RouteKind::kSplitKeys || !SpansClusterSlots(cmd);
}

bool CommandRouter::SpansClusterSlots(const RespCommand& cmd, size_t* target) const {
  const size_t n = filters_.size();
  for (size_t i = 0; i < n; ++i) {
    if (!cluster_[i]) continue;
    int slot = -1;
    for (size_t j = 0; j < keys_.size(); ++j) {
      if (!selected_[j * n + i]) continue;
      int key_slot = KeyHashSlot(cmd.args[keys_[j]]);
      if (slot < 0) {
        slot = key_slot;
      } else if (key_slot != slot) {
        if (target != nullptr) *target = i;
        return true;
      }
    }
  }
  return false;
}

bool CommandRouter::MovesAcrossSlots(size_t i, const RespCommand& cmd) const {
  return cluster_[i] && KeyHashSlot(cmd.args[1]) != KeyHashSlot(cmd.args[2]);
}

absl::Status CommandRouter::RouteByKeys(const CommandInfo& info, const RespCommand& cmd,
                                        std::vector<std::string>* out,
                                        std::vector<Materialization>* materialize) {
  const size_t n = filters_.size();
  RETURN_IF_ERROR(FindKeys(info, cmd, dbs_.source_db()));
  const int db = dbs_.source_db();
  if (materialize != nullptr && !skips_.empty()) {
    std::vector<KeyRef> copies;
    switch (CheckWindows(&copies)) {
      case SkipWindows::Hit::kCovered:
        // Every key's copy is as of a later offset: the targets have its effect.
        for (size_t i = 0; i < n; ++i) ++counters_[i].commands_dropped;
        return absl::OkStatus();
      case SkipWindows::Hit::kRecopy:
        // The targets may already have this command's effect on a skipped key
        // (and later ones): copy its keys again instead.
        AddToRequests(copies, materialize);
        return absl::OkStatus();
      case SkipWindows::Hit::kNone:
        break;
    }
  }
  if (keys_.size() == 1) {
    // The hot path: one key, the original bytes to each target that wants it
    // (a relative expiry made absolute instead).
    std::string_view key = cmd.args[keys_[0]];
    const bool rewritten = expiry_.Rewrite(info, cmd, txn_.open());
    for (size_t i = 0; i < n; ++i) {
      if (filters_[i]->Matches(key)) {
        SinkInDb(i, db, out).append(rewritten ? expiry_.For(i) : cmd.wire);
        ++counters_[i].commands_kept;
      } else {
        ++counters_[i].commands_dropped;
      }
    }
    return absl::OkStatus();
  }
  if (RoutesWhole(info, cmd)) {
    for (size_t i = 0; i < n; ++i) {
      if (selected_[i]) {
        SinkInDb(i, db, out).append(cmd.wire);
        ++counters_[i].commands_kept;
      } else {
        ++counters_[i].commands_dropped;
      }
    }
    return absl::OkStatus();
  }
  if (info.route == RouteKind::kSplitKeys) return RouteSplit(info, cmd, out);
  if (info.name == "SMOVE") return RouteMoveMember(cmd, out);
  // Cross-target and not splittable: materialised, unless refused. Only the
  // keys it changes: those it only reads are as they were on their targets.
  if (materialize == nullptr || fail_on_cross_target_) return RefuseCrossTarget(info, cmd);
  AddToRequests(written_, materialize);
  return absl::OkStatus();
}

absl::Status CommandRouter::RouteMoveMember(const RespCommand& cmd, std::vector<std::string>* out) {
  // The source replicates SMOVE only when it moved the member: it left src
  // (which Redis deletes once empty, as SREM does) and is in dst.
  if (cmd.args.size() != 4) {
    return absl::InvalidArgumentError("SMOVE: wrong number of arguments");
  }
  const size_t n = filters_.size();
  const int db = dbs_.source_db();
  for (size_t i = 0; i < n; ++i) {
    const bool src = selected_[i] != 0;
    const bool dst = selected_[n + i] != 0;
    if (!src && !dst) {
      ++counters_[i].commands_dropped;
      continue;
    }
    ++counters_[i].commands_kept;
    std::string& sink = SinkInDb(i, db, out);
    if (src && dst && !MovesAcrossSlots(i, cmd)) {
      sink.append(cmd.wire);
      continue;
    }
    ++counters_[i].commands_split;
    if (src) AppendCommand(&sink, {"SREM", cmd.args[1], cmd.args[3]});
    if (dst) AppendCommand(&sink, {"SADD", cmd.args[2], cmd.args[3]});
  }
  return absl::OkStatus();
}

void CommandRouter::FillKeyRefs(const CommandInfo& info, const RespCommand& cmd, int db) {
  refs_.clear();
  ref_written_.clear();
  for (size_t j = 0; j < keys_.size(); ++j) {
    refs_.push_back(KeyRef{db, cmd.args[keys_[j]]});
    ref_written_.push_back(j < read_only_.size() && read_only_[j] ? 0 : 1);
  }
  if (info.name == "MOVE" && cmd.args.size() == 3) {
    // MOVE key db: the key also appears in the other db.
    if (std::optional<int> other = ParseDbIndex(cmd.args[2])) {
      refs_.push_back(KeyRef{*other, cmd.args[1]});
      ref_written_.push_back(1);
    }
  } else if (info.name == "COPY" && refs_.size() == 2) {
    // COPY src dst [DB n] [REPLACE]: dst is in db n.
    for (size_t i = 3; i + 1 < cmd.args.size(); ++i) {
      if (!absl::EqualsIgnoreCase(AsAbsl(cmd.args[i]), "DB")) continue;
      if (std::optional<int> other = ParseDbIndex(cmd.args[i + 1])) refs_[1].db = *other;
    }
  }
  // A command said to change none of its keys changes them all, for all we know.
  if (std::find(ref_written_.begin(), ref_written_.end(), 1) == ref_written_.end()) {
    ref_written_.assign(refs_.size(), 1);
  }
  written_.clear();
  for (size_t i = 0; i < refs_.size(); ++i) {
    if (ref_written_[i]) written_.push_back(refs_[i]);
  }
}

void CommandRouter::EmitMaterialized(int db, const MaterializedKey& key, bool absolute_ttl,
                                     uint64_t source_offset, std::vector<std::string>* out) {
  // The targets may hold a copy as new or newer (coalesced copies).
  if (!skips_.Open(db, key.key, source_offset, cover_new_windows_)) return;
  char ttl[24];
  auto [end, ec] = std::to_chars(ttl, ttl + sizeof(ttl), key.exists ? key.ttl_ms : 0);
  std::string_view ttl_arg(ttl, end - ttl);
  for (size_t i = 0; i < filters_.size(); ++i) {
    if (!filters_[i]->Matches(key.key)) continue;
    std::string& sink = SinkInDb(i, db, out);
    if (!key.exists) {
      AppendCommand(&sink, {"DEL", key.key});
    } else if (absolute_ttl) {
      AppendCommand(&sink, {"RESTORE", key.key, ttl_arg, key.payload, "REPLACE", "ABSTTL"});
    } else {
      AppendCommand(&sink, {"RESTORE", key.key, ttl_arg, key.payload, "REPLACE"});
    }
    ++counters_[i].keys_materialized;
  }
}

absl::Status CommandRouter::RouteSplit(const CommandInfo& info, const RespCommand& cmd,
                                       std::vector<std::string>* out) {
  const size_t n = filters_.size();
  const size_t k = keys_.size();
  // The keys must be evenly spaced units (DEL k1 k2, MSET k1 v1 k2 v2), or a
  // part would lose or misplace arguments. They run to the end of the command,
  // except after a key count (MSETEX 2 k1 v1 k2 v2 NX PX 100), where what
  // follows them goes to every part and each part gets its own count.
  size_t step = info.key_specs.empty() ? 1 : static_cast<size_t>(info.key_specs[0].keystep);
  if (step == 0) step = 1;
  size_t first = keys_[0];
  for (size_t j = 0; j < k; ++j) {
    if (keys_[j] != first + j * step) {
      return absl::InternalError(absl::StrCat(info.name, ": keys are not evenly spaced"));
    }
  }
  const bool counted = !info.key_specs.empty() && info.key_specs[0].find == KeySpec::Find::kKeynum;
  const size_t count_index =
      counted ? static_cast<size_t>(info.key_specs[0].index + info.key_specs[0].keynumidx) : 0;
  if (counted ? first + k * step > cmd.args.size() || count_index >= first
              : first + k * step != cmd.args.size()) {
    return absl::InvalidArgumentError(absl::StrCat(CommandName(info, cmd), ": ", cmd.args.size(),
                                                   " arguments do not split into keys"));
  }
  const int db = dbs_.source_db();
  for (size_t i = 0; i < n; ++i) {
    size_t mine = 0;
    for (size_t j = 0; j < k; ++j) mine += selected_[j * n + i];
    if (mine == 0) {
      ++counters_[i].commands_dropped;
      continue;
    }
    ++counters_[i].commands_kept;
    if (mine == k) {
      SinkInDb(i, db, out).append(cmd.wire);
      continue;
    }
    ++counters_[i].commands_split;
    part_.assign(cmd.args.begin(), cmd.args.begin() + first);
    // The source replicates MSETNX only when it set every key: each part is
    // an MSET, exact whatever the target holds.
    if (info.name == "MSETNX") part_[0] = "MSET";
    std::string count = std::to_string(mine);
    if (counted) part_[count_index] = count;
    for (size_t j = 0; j < k; ++j) {
      if (!selected_[j * n + i]) continue;
      part_.insert(part_.end(), cmd.args.begin() + keys_[j], cmd.args.begin() + keys_[j] + step);
    }
    part_.insert(part_.end(), cmd.args.begin() + first + k * step, cmd.args.end());
    AppendCommand(&SinkInDb(i, db, out), part_);
  }
  return absl::OkStatus();
}

absl::Status CommandRouter::RefuseCrossTarget(const CommandInfo& info, const RespCommand& cmd) {
  const size_t n = filters_.size();
  const size_t k = keys_.size();
  bool same_targets = true;
  for (size_t j = 1; j < k; ++j) {
    same_targets &= std::memcmp(&selected_[j * n], selected_.data(), n) == 0;
  }
  size_t cluster = 0;
  if (same_targets && SpansClusterSlots(cmd, &cluster)) {
    std::string keys;
    for (size_t j = 0; j < k && j < kMaxKeysInMessage; ++j) {
      absl::StrAppend(&keys, j == 0 ? "" : ", ", QuoteKey(cmd.args[keys_[j]]), " (slot ",
                      KeyHashSlot(cmd.args[keys_[j]]), ")");
    }
    if (k > kMaxKeysInMessage) absl::StrAppend(&keys, ", ... (", k, " keys)");
    return absl::FailedPreconditionError(absl::StrCat(
        CommandName(info, cmd), " keys ", keys, " span hash slots of cluster target ",
        TargetLabel(cluster), ": cross-slot ", info.write ? "writes are" : "commands are",
        fail_on_cross_target_ ? " refused (fail_on_cross_target_write)" : " not supported yet"));
  }
  std::string keys;
  std::vector<uint8_t> all(n, 0);
  for (size_t j = 0; j < k; ++j) {
    const uint8_t* row = &selected_[j * n];
    for (size_t i = 0; i < n; ++i) all[i] |= row[i];
    if (j >= kMaxKeysInMessage) continue;
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += row[i];
    std::string where = count == 0   ? "no target"
                        : count == 1 ? absl::StrCat("target ", TargetList(row))
                                     : absl::StrCat("targets ", TargetList(row));
    absl::StrAppend(&keys, j == 0 ? "" : ", ", QuoteKey(cmd.args[keys_[j]]), " (", where, ")");
  }
  if (k > kMaxKeysInMessage) absl::StrAppend(&keys, ", ... (", k, " keys)");
  return absl::FailedPreconditionError(absl::StrCat(
      CommandName(info, cmd), " keys ", keys, " span targets ", TargetList(all.data()),
      ": cross-target ", info.write ? "writes are" : "commands are",
      fail_on_cross_target_ ? " refused (fail_on_cross_target_write)" : " not supported yet"));
}

}  // namespace reshard::engine
