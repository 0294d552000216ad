#include "engine/route/command_router.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/resp/resp_writer.h"
#include "engine/base/status_macros.h"

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

std::optional<int> ParseDb(std::string_view arg) {
  int db = -1;
  auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), db);
  if (ec != std::errc() || ptr != arg.data() + arg.size() || db < 0) return std::nullopt;
  return db;
}

std::optional<int64_t> ParseInt64(std::string_view arg) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
  if (ec != std::errc() || ptr != arg.data() + arg.size() || arg.empty()) return std::nullopt;
  return v;
}

bool Is(std::string_view arg, absl::string_view word) {
  return absl::EqualsIgnoreCase(AsAbsl(arg), word);
}

// A unix time in ms as a RESP argument.
class MsText {
 public:
  explicit MsText(int64_t ms) {
    auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), ms);
    len_ = end - buf_;
  }
  std::string_view view() const { return std::string_view(buf_, len_); }

 private:
  char buf_[24];
  size_t len_ = 0;
};

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
      txn_used_(filters_.size(), 0),
      pxat_(filters_.size(), 0) {
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
  if (needs_db) return SinkInDb(i, source_db_, out);
  if (in_multi_) {
    txn_used_[i] = 1;
    return txn_[i];
  }
  return (*out)[i];
}

std::string& CommandRouter::SinkInDb(size_t i, int db, std::vector<std::string>* out) {
  std::string& sink = in_multi_ ? txn_[i] : (*out)[i];
  int& target_db = in_multi_ ? txn_db_[i] : target_db_[i];
  if (in_multi_) txn_used_[i] = 1;
  if (target_db != db) {
    AppendSelect(&sink, db);
    target_db = db;
  }
  return sink;
}

absl::Status CommandRouter::SourceDbKnown(const CommandInfo& info) const {
  if (source_db_ >= 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(info.name, " before the source's db is known (no SELECT yet)"));
}

absl::Status CommandRouter::Route(const RespCommand& cmd, std::vector<std::string>* out) {
  return Route(cmd, out, nullptr);
}

absl::Status CommandRouter::Route(const RespCommand& cmd, std::vector<std::string>* out,
                                  std::vector<Materialization>* materialize) {
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
      return RouteByKeys(*info, cmd, out, materialize);
    case RouteKind::kBroadcast:
    case RouteKind::kBroadcastInDb: {
      bool needs_db = info->route == RouteKind::kBroadcastInDb;
      if (needs_db) RETURN_IF_ERROR(SourceDbKnown(*info));
      for (size_t i = 0; i < n; ++i) {
        Sink(i, needs_db, out).append(cmd.wire);
        ++counters_[i].commands_kept;
      }
      if (materialize != nullptr && skipped_count_ > 0) {
        RequestSkippedAfter(*info, cmd, materialize);
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
                                        std::vector<std::string>* out,
                                        std::vector<Materialization>* materialize) {
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
  if (materialize != nullptr && skipped_count_ > 0) {
    // The targets already have this command's effects on a skipped key (and
    // maybe later ones): copy all its keys again instead.
    KeyRefs(info, cmd);
    if (TouchesSkipped()) {
      RequestRefs(materialize);
      return absl::OkStatus();
    }
  }
  if (keys_.size() == 1) {
    // The hot path: one key, the original bytes to each target that wants it
    // (a relative expiry made absolute instead).
    std::string_view key = cmd.args[keys_[0]];
    const bool rewritten = now_ms_ > 0 && rewrite_expiries_ && RewriteRelativeExpiry(info, cmd);
    for (size_t i = 0; i < n; ++i) {
      if (filters_[i]->Matches(key)) {
        Sink(i, true, out).append(rewritten ? std::string_view(RewrittenFor(i)) : cmd.wire);
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
  if (materialize == nullptr || fail_on_cross_target_) return RouteCrossTarget(info, cmd);
  KeyRefs(info, cmd);
  RequestRefs(materialize);
  return absl::OkStatus();
}

bool CommandRouter::RewriteRelativeExpiry(const CommandInfo& info, const RespCommand& cmd) {
  const std::string& name = info.name;
  std::span<const std::string_view> args = cmd.args;
  expiry_pxat_.clear();
  expiry_compat_.clear();
  // now + amount * unit, unless that overflows.
  auto absolute = [this](std::string_view amount_arg, int64_t unit) -> std::optional<int64_t> {
    std::optional<int64_t> amount = ParseInt64(amount_arg);
    int64_t ms = 0, at = 0;
    if (!amount || __builtin_mul_overflow(*amount, unit, &ms) ||
        __builtin_add_overflow(now_ms_, ms, &at)) {
      return std::nullopt;
    }
    return at;
  };
  // SET key value with the expiry `at`: PXAT where the target has it, else
  // SET and PEXPIREAT in one transaction.
  auto set_with_expiry = [this](std::string_view key, std::string_view value, int64_t at) {
    MsText text(at);
    AppendCommand(&expiry_pxat_, {"SET", key, value, "PXAT", text.view()});
    if (!in_multi_) AppendCommand(&expiry_compat_, {"MULTI"});
    AppendCommand(&expiry_compat_, {"SET", key, value});
    AppendCommand(&expiry_compat_, {"PEXPIREAT", key, text.view()});
    if (!in_multi_) AppendCommand(&expiry_compat_, {"EXEC"});
  };

  if (name == "SET") {
    // SET key value [NX|XX] [GET] [EX s|PX ms|EXAT|PXAT|KEEPTTL], in any order.
    if (args.size() < 5) return false;
    int64_t unit = 0;
    std::string_view amount;
    for (size_t i = 3; i < args.size(); ++i) {
      if (Is(args[i], "NX") || Is(args[i], "XX") || Is(args[i], "GET")) continue;
      if ((Is(args[i], "EX") || Is(args[i], "PX")) && i + 1 < args.size() && unit == 0) {
        unit = Is(args[i], "EX") ? 1000 : 1;
        amount = args[++i];
        continue;
      }
      return false;  // absolute already, KEEPTTL, or not for us to judge
    }
    if (unit == 0) return false;
    std::optional<int64_t> at = absolute(amount, unit);
    if (!at) return false;
    set_with_expiry(args[1], args[2], *at);
    return true;
  }
  if (name == "SETEX" || name == "PSETEX") {
    if (args.size() != 4) return false;
    std::optional<int64_t> at = absolute(args[2], name == "SETEX" ? 1000 : 1);
    if (!at) return false;
    set_with_expiry(args[1], args[3], *at);
    return true;
  }
  if (name == "EXPIRE" || name == "PEXPIRE") {
    // The NX/XX/GT/LT flags, if any, stay.
    if (args.size() < 3) return false;
    std::optional<int64_t> at = absolute(args[2], name == "EXPIRE" ? 1000 : 1);
    if (!at) return false;
    MsText text(*at);
    part_.assign(args.begin(), args.end());
    part_[0] = "PEXPIREAT";
    part_[2] = text.view();
    AppendCommand(&expiry_pxat_, part_);
    return true;
  }
  if (name == "GETEX") {
    // GETEX key EX s|PX ms: its only effect is the expiry.
    if (args.size() != 4 || !(Is(args[2], "EX") || Is(args[2], "PX"))) return false;
    std::optional<int64_t> at = absolute(args[3], Is(args[2], "EX") ? 1000 : 1);
    if (!at) return false;
    MsText text(*at);
    AppendCommand(&expiry_pxat_, {"PEXPIREAT", args[1], text.view()});
    return true;
  }
  if (name == "RESTORE" || name == "RESTORE-ASKING") {
    // RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f].
    if (args.size() < 4) return false;
    for (size_t i = 4; i < args.size(); ++i) {
      if (Is(args[i], "ABSTTL")) return false;
    }
    std::optional<int64_t> ttl = ParseInt64(args[2]);
    if (!ttl || *ttl <= 0) return false;  // 0: no expiry
    std::optional<int64_t> at = absolute(args[2], 1);
    if (!at) return false;
    MsText text(*at);
    part_.assign(args.begin(), args.end());
    part_[2] = text.view();
    part_.push_back("ABSTTL");
    AppendCommand(&expiry_pxat_, part_);
    return true;
  }
  return false;
}

void CommandRouter::KeyRefs(const CommandInfo& info, const RespCommand& cmd) {
  refs_.clear();
  for (size_t index : keys_) refs_.emplace_back(source_db_, cmd.args[index]);
  if (info.name == "MOVE" && cmd.args.size() == 3) {
    // MOVE key db: the key also appears in the other db.
    if (std::optional<int> db = ParseDb(cmd.args[2])) refs_.emplace_back(*db, cmd.args[1]);
  } else if (info.name == "COPY" && refs_.size() == 2) {
    // COPY src dst [DB n] [REPLACE]: dst is in db n.
    for (size_t i = 3; i + 1 < cmd.args.size(); ++i) {
      if (!absl::EqualsIgnoreCase(AsAbsl(cmd.args[i]), "DB")) continue;
      if (std::optional<int> db = ParseDb(cmd.args[i + 1])) refs_[1].first = *db;
    }
  }
}

bool CommandRouter::TouchesSkipped() const {
  for (const auto& [db, key] : refs_) {
    auto it = skipped_.find(db);
    if (it != skipped_.end() && it->second.contains(AsAbsl(key))) return true;
  }
  return false;
}

void CommandRouter::RequestRefs(std::vector<Materialization>* materialize) const {
  for (const auto& [db, key] : refs_) {
    auto it = std::find_if(materialize->begin(), materialize->end(),
                           [db = db](const Materialization& m) { return m.db == db; });
    if (it == materialize->end()) {
      materialize->push_back(Materialization{db, {}});
      it = materialize->end() - 1;
    }
    if (std::find(it->keys.begin(), it->keys.end(), key) == it->keys.end()) {
      it->keys.emplace_back(key);
    }
  }
}

void CommandRouter::RequestSkippedAfter(const CommandInfo& info, const RespCommand& cmd,
                                        std::vector<Materialization>* materialize) {
  // The command changed the targets' copies of skipped keys, whose later
  // commands are still to be skipped: copy them again as they are now.
  refs_.clear();
  auto add_db = [&](int from, int to) {
    auto it = skipped_.find(from);
    if (it == skipped_.end()) return;
    for (const auto& [key, offset] : it->second) refs_.emplace_back(to, key);
  };
  if (info.name == "FLUSHALL") {
    for (const auto& [db, keys] : skipped_) add_db(db, db);
  } else if (info.name == "FLUSHDB") {
    add_db(source_db_, source_db_);
  } else if (info.name == "SWAPDB" && cmd.args.size() == 3) {
    std::optional<int> a = ParseDb(cmd.args[1]);
    std::optional<int> b = ParseDb(cmd.args[2]);
    if (!a || !b) return;
    // A skipped key of either db now lives in the other one, too.
    add_db(*a, *a);
    add_db(*a, *b);
    add_db(*b, *b);
    add_db(*b, *a);
  } else {
    return;
  }
  RequestRefs(materialize);
}

void CommandRouter::EmitMaterialized(int db, const MaterializedKey& key, bool absolute_ttl,
                                     uint64_t source_offset, std::vector<std::string>* out) {
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
  if (source_offset <= applied_offset_) return;
  auto [it, inserted] = skipped_[db].try_emplace(key.key, source_offset);
  if (!inserted) {
    it->second = std::max(it->second, source_offset);
    return;
  }
  min_skip_offset_ =
      skipped_count_ == 0 ? source_offset : std::min(min_skip_offset_, source_offset);
  ++skipped_count_;
}

void CommandRouter::SetAppliedOffset(uint64_t offset) {
  applied_offset_ = offset;
  if (skipped_count_ == 0 || offset < min_skip_offset_) return;
  uint64_t min = UINT64_MAX;
  for (auto db_it = skipped_.begin(); db_it != skipped_.end();) {
    auto& keys = db_it->second;
    for (auto it = keys.begin(); it != keys.end();) {
      if (it->second <= offset) {
        keys.erase(it++);
        --skipped_count_;
      } else {
        min = std::min(min, it->second);
        ++it;
      }
    }
    if (keys.empty()) {
      skipped_.erase(db_it++);
    } else {
      ++db_it;
    }
  }
  min_skip_offset_ = min;
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
      ": cross-target ", info.write ? "writes are" : "commands are",
      fail_on_cross_target_ ? " refused (fail_on_cross_target_write)" : " not supported yet"));
}

}  // namespace reshard::engine
