#include "engine/command_router.h"

#include <charconv>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/resp_writer.h"
#include "engine/status_macros.h"

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

void AppendSelect(std::string* out, int db) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), db);
  AppendCommand(out, {"SELECT", std::string_view(buf, end - buf)});
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
    absl::string_view arg(args[i].data(), args[i].size());
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
      target_db_(filters_.size(), -1),
      txn_(filters_.size()),
      txn_db_(filters_.size(), -1),
      txn_used_(filters_.size(), 0) {
  if (names_.size() != filters_.size()) names_.clear();
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

std::string& CommandRouter::Sink(size_t i, bool needs_db, std::vector<std::string>* out) {
  std::string& sink = in_multi_ ? txn_[i] : (*out)[i];
  int& db = in_multi_ ? txn_db_[i] : target_db_[i];
  if (in_multi_) txn_used_[i] = 1;
  if (needs_db && db != source_db_) {
    AppendSelect(&sink, source_db_);
    db = source_db_;
  }
  return sink;
}

absl::Status CommandRouter::SourceDbKnown(const CommandInfo& info) const {
  if (source_db_ >= 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(info.name, " before the source's db is known (no SELECT yet)"));
}

absl::Status CommandRouter::Route(const RespCommand& cmd, std::vector<std::string>* out) {
  const size_t n = filters_.size();
  if (out->size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("Route: ", out->size(), " outputs for ", n, " targets"));
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
      return RouteByKeys(*info, cmd, out);
    case RouteKind::kBroadcast:
    case RouteKind::kBroadcastInDb: {
      bool needs_db = info->route == RouteKind::kBroadcastInDb;
      if (needs_db) RETURN_IF_ERROR(SourceDbKnown(*info));
      for (size_t i = 0; i < n; ++i) {
        Sink(i, needs_db, out).append(cmd.wire);
        ++counters_[i].commands_kept;
      }
      return absl::OkStatus();
    }
    case RouteKind::kSelect: {
      if (cmd.args.size() != 2) {
        return absl::InvalidArgumentError("SELECT: wrong number of arguments");
      }
      std::string_view arg = cmd.args[1];
      int db = -1;
      auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), db);
      if (ec != std::errc() || ptr != arg.data() + arg.size() || db < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("SELECT ", QuoteKey(arg), ": not a db index"));
      }
      // Not forwarded: each target gets its own SELECT before its next command.
      source_db_ = db;
      return absl::OkStatus();
    }
    case RouteKind::kMulti:
      if (in_multi_) return absl::FailedPreconditionError("MULTI inside MULTI");
      in_multi_ = true;
      source_db_before_multi_ = source_db_;
      for (size_t i = 0; i < n; ++i) {
        txn_[i].clear();
        txn_db_[i] = target_db_[i];
        txn_used_[i] = 0;
      }
      return absl::OkStatus();
    case RouteKind::kExec:
      if (!in_multi_) return absl::FailedPreconditionError("EXEC without MULTI");
      for (size_t i = 0; i < n; ++i) {
        if (!txn_used_[i]) continue;  // its db stays what it was
        std::string& o = (*out)[i];
        AppendCommand(&o, {"MULTI"});
        o.append(txn_[i]);
        AppendCommand(&o, {"EXEC"});
        target_db_[i] = txn_db_[i];
      }
      in_multi_ = false;
      return absl::OkStatus();
    case RouteKind::kDiscard:
      if (!in_multi_) return absl::FailedPreconditionError("DISCARD without MULTI");
      // A SELECT queued in a discarded transaction never ran.
      source_db_ = source_db_before_multi_;
      in_multi_ = false;
      return absl::OkStatus();
    case RouteKind::kIntercepted:
      return absl::FailedPreconditionError(absl::StrCat(
          CommandName(*info, cmd), " reached the router: the job must handle it before routing"));
  }
  return absl::InternalError("unhandled route kind");
}

absl::Status CommandRouter::RouteByKeys(const CommandInfo& info, const RespCommand& cmd,
                                        std::vector<std::string>* out) {
  const size_t n = filters_.size();
  keys_.clear();
  RETURN_IF_ERROR(FindCommandKeys(info, cmd.args, &keys_));
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
  RETURN_IF_ERROR(SourceDbKnown(info));
  if (keys_.size() == 1) {
    // The hot path: one key, the original bytes to each target that wants it.
    std::string_view key = cmd.args[keys_[0]];
    for (size_t i = 0; i < n; ++i) {
      if (filters_[i]->Matches(key)) {
        Sink(i, true, out).append(cmd.wire);
        ++counters_[i].commands_kept;
      } else {
        ++counters_[i].commands_dropped;
      }
    }
    return absl::OkStatus();
  }
  const size_t k = keys_.size();
  selected_.assign(k * n, 0);
  bool same = true;
  for (size_t j = 0; j < k; ++j) {
    std::string_view key = cmd.args[keys_[j]];
    uint8_t* row = &selected_[j * n];
    for (size_t i = 0; i < n; ++i) row[i] = filters_[i]->Matches(key) ? 1 : 0;
    if (j > 0 && std::memcmp(row, selected_.data(), n) != 0) same = false;
  }
  if (same) {
    for (size_t i = 0; i < n; ++i) {
      if (selected_[i]) {
        Sink(i, true, out).append(cmd.wire);
        ++counters_[i].commands_kept;
      } else {
        ++counters_[i].commands_dropped;
      }
    }
    return absl::OkStatus();
  }
  if (info.route == RouteKind::kSplitKeys) return RouteSplit(info, cmd, out);
  return RouteCrossTarget(info, cmd);
}

absl::Status CommandRouter::RouteSplit(const CommandInfo& info, const RespCommand& cmd,
                                       std::vector<std::string>* out) {
  const size_t n = filters_.size();
  const size_t k = keys_.size();
  // The keys must be evenly spaced units running to the end of the command
  // (DEL k1 k2, MSET k1 v1 k2 v2), or a part would lose or misplace arguments.
  size_t step = info.key_specs.empty() ? 1 : static_cast<size_t>(info.key_specs[0].keystep);
  if (step == 0) step = 1;
  size_t first = keys_[0];
  for (size_t j = 0; j < k; ++j) {
    if (keys_[j] != first + j * step) {
      return absl::InternalError(absl::StrCat(info.name, ": keys are not evenly spaced"));
    }
  }
  if (first + k * step != cmd.args.size()) {
    return absl::InvalidArgumentError(absl::StrCat(CommandName(info, cmd), ": ", cmd.args.size(),
                                                   " arguments do not split into keys"));
  }
  for (size_t i = 0; i < n; ++i) {
    size_t mine = 0;
    for (size_t j = 0; j < k; ++j) mine += selected_[j * n + i];
    if (mine == 0) {
      ++counters_[i].commands_dropped;
      continue;
    }
    ++counters_[i].commands_kept;
    if (mine == k) {
      Sink(i, true, out).append(cmd.wire);
      continue;
    }
    ++counters_[i].commands_split;
    part_.assign(cmd.args.begin(), cmd.args.begin() + first);
    for (size_t j = 0; j < k; ++j) {
      if (!selected_[j * n + i]) continue;
      part_.insert(part_.end(), cmd.args.begin() + keys_[j], cmd.args.begin() + keys_[j] + step);
    }
    AppendCommand(&Sink(i, true, out), part_);
  }
  return absl::OkStatus();
}

absl::Status CommandRouter::RouteCrossTarget(const CommandInfo& info, const RespCommand& cmd) {
  const size_t n = filters_.size();
  const size_t k = keys_.size();
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
      ": cross-target ", info.write ? "writes are" : "commands are", " not supported yet"));
}

}  // namespace reshard::engine
