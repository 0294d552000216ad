#include "engine/resp/command_table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

// Longest command or "COMMAND|SUBCOMMAND" name we look up; longer ones are
// unknown (Redis's longest is "CLIENT|NO-EVICT" territory, well below this).
constexpr size_t kMaxNameLength = 64;

// Upper-cases `name` into buf; returns the view, or empty when too long.
absl::string_view UpperInto(std::string_view name, char* buf) {
  if (name.size() > kMaxNameLength) return {};
  for (size_t i = 0; i < name.size(); ++i) buf[i] = absl::ascii_toupper(name[i]);
  return absl::string_view(buf, name.size());
}

// SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dst]:
// the same scan as Redis's sortGetKeys.
absl::Status FindSortKeys(std::span<const std::string_view> args, std::vector<size_t>* keys,
                          std::vector<uint8_t>* read_only) {
  keys->push_back(1);
  size_t store = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    absl::string_view arg(args[i].data(), args[i].size());
    if (absl::EqualsIgnoreCase(arg, "LIMIT")) {
      i += 2;
    } else if (absl::EqualsIgnoreCase(arg, "GET") || absl::EqualsIgnoreCase(arg, "BY")) {
      i += 1;
    } else if (absl::EqualsIgnoreCase(arg, "STORE") && i + 1 < args.size()) {
      store = i + 1;
    }
  }
  if (read_only != nullptr) read_only->push_back(1);  // SORT reads its key
  if (store != 0) {
    keys->push_back(store);
    if (read_only != nullptr) read_only->push_back(0);
  }
  return absl::OkStatus();
}

}  // namespace

const CommandTable& CommandTable::Builtin() {
  static const CommandTable* table = [] {
    auto* t = new CommandTable();
    for (CommandInfo& info : BuiltinCommands()) t->Add(std::move(info));
    return t;
  }();
  return *table;
}

void CommandTable::Add(CommandInfo info) {
  std::string key = absl::AsciiStrToUpper(info.name);
  info.name = key;
  commands_.insert_or_assign(std::move(key), std::move(info));
}

std::vector<const CommandInfo*> CommandTable::Rows() const {
  std::vector<const CommandInfo*> rows;
  rows.reserve(commands_.size());
  for (const auto& [name, info] : commands_) rows.push_back(&info);
  return rows;
}

const CommandInfo* CommandTable::FindByName(std::string_view name) const {
  char buf[kMaxNameLength];
  absl::string_view upper = UpperInto(name, buf);
  if (upper.empty()) return nullptr;
  auto it = commands_.find(upper);
  return it == commands_.end() ? nullptr : &it->second;
}

const CommandInfo* CommandTable::Find(std::span<const std::string_view> args) const {
  if (args.empty()) return nullptr;
  const CommandInfo* info = FindByName(args[0]);
  if (info == nullptr || !info->has_subcommands) return info;
  if (args.size() < 2 || args[0].size() + 1 + args[1].size() > kMaxNameLength) return nullptr;
  char buf[kMaxNameLength];
  std::copy(args[0].begin(), args[0].end(), buf);
  buf[args[0].size()] = '|';
  std::copy(args[1].begin(), args[1].end(), buf + args[0].size() + 1);
  return FindByName(std::string_view(buf, args[0].size() + 1 + args[1].size()));
}

absl::Status FindCommandKeys(const CommandInfo& info, std::span<const std::string_view> args,
                             std::vector<size_t>* keys, std::vector<uint8_t>* read_only) {
  long argc = static_cast<long>(args.size());
  if ((info.arity > 0 && argc != info.arity) || (info.arity < 0 && argc < -info.arity)) {
    return absl::InvalidArgumentError(absl::StrCat(info.name, ": wrong number of arguments (", argc,
                                                   ", arity ", info.arity, ")"));
  }
  if (info.finder == KeyFinder::kSort) return FindSortKeys(args, keys, read_only);
  absl::Status s = FindKeysBySpecs(info.key_specs, args, keys, read_only);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(info.name, ": ", s.message()));
  return absl::OkStatus();
}

namespace {

// RESP2 sends key specs as flat arrays and RESP3 as maps; both are
// key, value, key, value...
const RespValue* Field(const RespValue& v, std::string_view key) {
  if (v.type != RespValue::Type::kArray && v.type != RespValue::Type::kMap) return nullptr;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    if (v.elements[i].IsString(key)) return &v.elements[i + 1];
  }
  return nullptr;
}

bool IsAggregate(const RespValue& v) {
  return v.type == RespValue::Type::kArray || v.type == RespValue::Type::kSet ||
         v.type == RespValue::Type::kMap;
}

// Flags are compared without case: Redis 7 sends key spec flags both as
// "RW" and "incomplete".
bool HasFlag(const RespValue& flags, std::string_view flag) {
  for (const RespValue& f : flags.elements) {
    if ((f.type == RespValue::Type::kSimpleString || f.type == RespValue::Type::kBulkString) &&
        absl::EqualsIgnoreCase(f.str, absl::string_view(flag.data(), flag.size()))) {
      return true;
    }
  }
  return false;
}

int IntField(const RespValue& spec, std::string_view key, int fallback) {
  const RespValue* v = Field(spec, key);
  return v != nullptr && v->type == RespValue::Type::kInteger ? static_cast<int>(v->integer)
                                                              : fallback;
}

// One Redis 7 key spec; false when it does not say where the keys are.
bool ParseKeySpec(const RespValue& v, KeySpec* out) {
  const RespValue* flags = Field(v, "flags");
  if (flags != nullptr && (HasFlag(*flags, "INCOMPLETE") || HasFlag(*flags, "not_key"))) {
    return false;
  }
  const RespValue* bs = Field(v, "begin_search");
  const RespValue* fk = Field(v, "find_keys");
  if (bs == nullptr || fk == nullptr) return false;
  const RespValue* bs_type = Field(*bs, "type");
  const RespValue* bs_spec = Field(*bs, "spec");
  const RespValue* fk_type = Field(*fk, "type");
  const RespValue* fk_spec = Field(*fk, "spec");
  if (bs_type == nullptr || bs_spec == nullptr || fk_type == nullptr || fk_spec == nullptr) {
    return false;
  }
  KeySpec s;
  if (bs_type->IsString("index")) {
    s.begin = KeySpec::Begin::kIndex;
    s.index = IntField(*bs_spec, "index", -1);
    if (s.index < 0) return false;
  } else if (bs_type->IsString("keyword")) {
    const RespValue* keyword = Field(*bs_spec, "keyword");
    if (keyword == nullptr || keyword->str.empty()) return false;
    s.begin = KeySpec::Begin::kKeyword;
    s.keyword = absl::AsciiStrToUpper(keyword->str);
    s.startfrom = IntField(*bs_spec, "startfrom", 0);
  } else {
    return false;
  }
  if (fk_type->IsString("range")) {
    s.find = KeySpec::Find::kRange;
    s.lastkey = IntField(*fk_spec, "lastkey", 0);
    s.keystep = IntField(*fk_spec, "keystep", 1);
    s.limit = IntField(*fk_spec, "limit", 0);
  } else if (fk_type->IsString("keynum")) {
    s.find = KeySpec::Find::kKeynum;
    s.keynumidx = IntField(*fk_spec, "keynumidx", 0);
    s.firstkey = IntField(*fk_spec, "firstkey", 1);
    s.keystep = IntField(*fk_spec, "keystep", 1);
  } else {
    return false;
  }
  if (s.keystep < 1) return false;
  s.read_only = flags != nullptr && HasFlag(*flags, "RO");
  *out = std::move(s);
  return true;
}

// Fills `info` from one COMMAND entry; false when the entry does not describe
// its keys completely (base's row, if any, is then kept).
bool ParseCommandEntry(const RespValue& entry, const CommandInfo* base, CommandInfo* info) {
  const std::vector<RespValue>& e = entry.elements;
  const RespValue& flags = e[2];
  info->name = absl::AsciiStrToUpper(e[0].str);
  info->arity = static_cast<int>(e[1].integer);
  info->write = HasFlag(flags, "write") || (base != nullptr && base->write);
  info->route = base != nullptr ? base->route : RouteKind::kKeyed;
  info->finder = KeyFinder::kSpecs;
  info->has_subcommands = false;
  info->key_specs.clear();
  if (base != nullptr && base->finder != KeyFinder::kSpecs) return false;
  if (e.size() > 8 && IsAggregate(e[8])) {
    // Redis 7: key specs.
    for (const RespValue& v : e[8].elements) {
      KeySpec spec;
      if (!ParseKeySpec(v, &spec)) {
        const RespValue* f = Field(v, "flags");
        if (f != nullptr && HasFlag(*f, "not_key")) continue;
        return false;
      }
      info->key_specs.push_back(std::move(spec));
    }
    return !info->key_specs.empty();
  }
  // Before 7.0: first/last/step, which miss movable keys.
  if (HasFlag(flags, "movablekeys")) return false;
  int first = static_cast<int>(e[3].integer);
  int last = static_cast<int>(e[4].integer);
  int step = static_cast<int>(e[5].integer);
  if (first <= 0 || step <= 0) return false;
  info->key_specs.push_back(IndexRange(first, last >= 0 ? last - first : last, step));
  return true;
}

bool IsCommandEntry(const RespValue& e) {
  return e.type == RespValue::Type::kArray && e.elements.size() >= 6 &&
         (e.elements[0].type == RespValue::Type::kBulkString ||
          e.elements[0].type == RespValue::Type::kSimpleString) &&
         e.elements[1].type == RespValue::Type::kInteger && IsAggregate(e.elements[2]) &&
         e.elements[3].type == RespValue::Type::kInteger &&
         e.elements[4].type == RespValue::Type::kInteger &&
         e.elements[5].type == RespValue::Type::kInteger;
}

absl::Status AddEntries(const RespValue& entries, const CommandTable& base, CommandTable* table) {
  for (size_t i = 0; i < entries.elements.size(); ++i) {
    const RespValue& entry = entries.elements[i];
    if (!IsCommandEntry(entry)) {
      return absl::InvalidArgumentError(
          absl::StrCat("COMMAND reply: entry ", i, " is not a command: ", entry.ToString()));
    }
    if (entry.elements.size() > 9 && IsAggregate(entry.elements[9]) &&
        !entry.elements[9].elements.empty()) {
      RETURN_IF_ERROR(AddEntries(entry.elements[9], base, table));
      const CommandInfo* old = base.FindByName(entry.elements[0].str);
      if (old == nullptr) {
        CommandInfo container;
        container.name = entry.elements[0].str;
        container.arity = static_cast<int>(entry.elements[1].integer);
        container.has_subcommands = true;
        table->Add(std::move(container));
      }
      continue;
    }
    CommandInfo info;
    const CommandInfo* old = base.FindByName(entry.elements[0].str);
    if (ParseCommandEntry(entry, old, &info)) table->Add(std::move(info));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CommandTable> CommandTable::FromCommandReply(const RespValue& reply,
                                                            const CommandTable& base) {
  if (reply.type != RespValue::Type::kArray) {
    return absl::InvalidArgumentError(
        absl::StrCat("COMMAND reply: expected an array, got ", reply.ToString()));
  }
  CommandTable table = base;
  RETURN_IF_ERROR(AddEntries(reply, base, &table));
  return table;
}

}  // namespace reshard::engine
