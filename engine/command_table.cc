#include "engine/command_table.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

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
absl::Status FindSortKeys(std::span<const std::string_view> args, std::vector<size_t>* keys) {
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
  if (store != 0) keys->push_back(store);
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
                             std::vector<size_t>* keys) {
  long argc = static_cast<long>(args.size());
  if ((info.arity > 0 && argc != info.arity) || (info.arity < 0 && argc < -info.arity)) {
    return absl::InvalidArgumentError(absl::StrCat(info.name, ": wrong number of arguments (", argc,
                                                   ", arity ", info.arity, ")"));
  }
  if (info.finder == KeyFinder::kSort) return FindSortKeys(args, keys);
  absl::Status s = FindKeysBySpecs(info.key_specs, args, keys);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(info.name, ": ", s.message()));
  return absl::OkStatus();
}

}  // namespace reshard::engine
