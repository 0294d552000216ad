#include "engine/route/cluster_split.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_context.h"
#include "engine/rdb/rdb_value_rebuild.h"
#include "engine/route/hash_slot.h"

namespace reshard::engine {
namespace {

std::string Quoted(std::string_view s) {
  if (s.size() > 64) s = s.substr(0, 64);
  return absl::StrCat("'", absl::CHexEscape(AsAbsl(s)), "'");
}

// The largest command a rebuild in parts sends.
constexpr uint64_t kMaxPartBytes = 16 << 20;

absl::Status Refuse(std::string_view name, uint64_t offset, std::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat(AsAbsl(name), " at stream offset ", offset, " ", AsAbsl(why)));
}

std::vector<std::string> Copy(std::span<const std::string_view> args) {
  return std::vector<std::string>(args.begin(), args.end());
}

}  // namespace

std::string DescribeClusterUnit(const ClusterUnit& unit) {
  if (unit.commands.empty()) return "(nothing)";
  const std::vector<std::string>& first = unit.commands.front();
  std::string name = absl::AsciiStrToUpper(first.empty() ? "" : first[0]);
  if (name == "MULTI" && unit.snapshot_key && unit.commands.size() > 2 &&
      unit.commands[1].size() > 1) {
    return absl::StrCat("the snapshot's ", Quoted(unit.commands[1][1]), " rebuilt in parts (",
                        unit.commands.size() - 2, " commands in a MULTI)");
  }
  if (name == "MULTI") {
    return absl::StrCat("MULTI (", unit.commands.size() - 2, " commands, stream offset ",
                        unit.offset, ")");
  }
  std::string out = name;
  if (first.size() > 1) absl::StrAppend(&out, " ", Quoted(first[1]));
  if (name != "RESTORE") absl::StrAppend(&out, " (stream offset ", unit.offset, ")");
  return out;
}

absl::Status SplitCommandForCluster(const CommandTable& table,
                                    std::span<const std::string_view> args, int db, uint64_t offset,
                                    std::vector<ClusterUnit>* out) {
  if (args.empty()) return absl::OkStatus();
  const CommandInfo* info = table.Find(args);
  std::string name = absl::AsciiStrToUpper(AsAbsl(args[0]));
  if (info == nullptr) {
    return Refuse(name, offset, "is a command reshardd does not know: its keys cannot be routed");
  }
  switch (info->route) {
    case RouteKind::kBroadcast:
    case RouteKind::kBroadcastInDb:
      if (name == "PING") return absl::OkStatus();
      if (name == "SWAPDB" || (info->route == RouteKind::kBroadcastInDb && db != 0)) {
        return Refuse(name, offset, absl::StrCat("in db ", db, ": a cluster has db 0 only"));
      }
      if (name == "PUBLISH") {
        // The cluster bus delivers a PUBLISH to every node: one master is enough.
        out->push_back(ClusterUnit{0, {Copy(args)}, offset});
        return absl::OkStatus();
      }
      out->push_back(ClusterUnit{ClusterUnit::kEveryMaster, {Copy(args)}, offset});
      return absl::OkStatus();
    case RouteKind::kKeyed:
    case RouteKind::kSplitKeys:
      break;
    default:
      return Refuse(name, offset, "cannot be applied to a cluster on its own");
  }
  std::vector<size_t> keys;
  if (absl::Status found = FindCommandKeys(*info, args, &keys); !found.ok()) {
    return Refuse(name, offset, std::string(found.message()));
  }
  if (keys.empty()) {
    out->push_back(ClusterUnit{ClusterUnit::kEveryMaster, {Copy(args)}, offset});
    return absl::OkStatus();
  }
  if (db != 0) {
    return Refuse(name, offset,
                  absl::StrCat("writes key ", Quoted(args[keys[0]]), " of db ", db,
                               ": a cluster has db 0 only"));
  }
  int slot = KeyHashSlot(args[keys[0]]);
  size_t other = 0;
  for (size_t k = 1; k < keys.size() && other == 0; ++k) {
    if (KeyHashSlot(args[keys[k]]) != slot) other = k;
  }
  if (other == 0) {
    out->push_back(ClusterUnit{slot, {Copy(args)}, offset});
    return absl::OkStatus();
  }
  if (info->route != RouteKind::kSplitKeys) {
    return Refuse(
        name, offset,
        absl::StrCat("writes keys of slots ", slot, " and ", KeyHashSlot(args[keys[other]]), " (",
                     Quoted(args[keys[0]]), ", ", Quoted(args[keys[other]]),
                     "): a cluster applies a command to one slot only"));
  }
  // One range of keys, each with the step-1 arguments after it: one part per
  // slot, in order of first use. MSETNX was applied by the source, so none of
  // its keys existed: MSET of each part is the same write.
  const size_t step = keys.size() > 1 ? keys[1] - keys[0] : 1;
  std::string part_name = name == "MSETNX" ? "MSET" : std::string(args[0]);
  std::map<int, size_t> part_of_slot;
  std::vector<ClusterUnit> parts;
  for (size_t key : keys) {
    int key_slot = KeyHashSlot(args[key]);
    auto [it, added] = part_of_slot.emplace(key_slot, parts.size());
    if (added) parts.push_back(ClusterUnit{key_slot, {{part_name}}, offset});
    std::vector<std::string>& part = parts[it->second].commands[0];
    for (size_t a = key; a < key + step && a < args.size(); ++a) part.emplace_back(args[a]);
  }
  for (ClusterUnit& part : parts) out->push_back(std::move(part));
  return absl::OkStatus();
}

absl::Status SplitTransactionForCluster(const CommandTable& table,
                                        const std::vector<std::vector<std::string>>& commands,
                                        int db, uint64_t offset, std::vector<ClusterUnit>* out) {
  std::vector<ClusterUnit> singles;
  for (const std::vector<std::string>& command : commands) {
    std::vector<std::string_view> args(command.begin(), command.end());
    if (absl::Status split = SplitCommandForCluster(table, args, db, offset, &singles);
        !split.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("in the MULTI at stream offset ", offset, ": ", split.message()));
    }
  }
  bool every_master = false;
  for (const ClusterUnit& unit : singles) every_master |= unit.slot == ClusterUnit::kEveryMaster;
  if (every_master) {
    for (ClusterUnit& unit : singles) out->push_back(std::move(unit));
    return absl::OkStatus();
  }
  std::map<int, size_t> group_of_slot;
  std::vector<ClusterUnit> groups;
  for (ClusterUnit& unit : singles) {
    auto [it, added] = group_of_slot.emplace(unit.slot, groups.size());
    if (added) groups.push_back(ClusterUnit{unit.slot, {{"MULTI"}}, offset});
    groups[it->second].commands.push_back(std::move(unit.commands[0]));
  }
  for (ClusterUnit& group : groups) {
    if (group.commands.size() == 2) {
      // One command: no transaction needed.
      group.commands.erase(group.commands.begin());
    } else {
      group.commands.push_back({"EXEC"});
    }
    out->push_back(std::move(group));
  }
  return absl::OkStatus();
}

absl::Status RebuildOversizedRestores(uint64_t max_bulk, ClusterUnit* unit) {
  // The DUMP payload: the type byte, the value, the RDB version (2 bytes)
  // and the CRC64 (8).
  constexpr size_t kFooter = 10;
  auto oversized = [max_bulk](const std::vector<std::string>& command) {
    return command.size() >= 4 && command[3].size() > max_bulk &&
           absl::EqualsIgnoreCase(command[0], "RESTORE");
  };
  // The stream's hot path: nothing to do.
  if (std::none_of(unit->commands.begin(), unit->commands.end(), oversized)) {
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> commands;
  for (std::vector<std::string>& command : unit->commands) {
    if (!oversized(command)) {
      commands.push_back(std::move(command));
      continue;
    }
    const std::string& key = command[1];
    std::string& payload = command[3];
    if (payload.size() < 1 + kFooter) {
      return absl::DataLossError(
          absl::StrCat("RESTORE ", Quoted(key), ": a payload of ", payload.size(), " bytes"));
    }
    const uint8_t type = static_cast<uint8_t>(payload[0]);
    const size_t size = payload.size();
    // The value alone, without a copy of what may be gigabytes.
    std::string value = std::move(payload);
    value.resize(size - kFooter);
    value.erase(0, 1);
    absl::StatusOr<std::vector<std::vector<std::string>>> parts = RebuildValueCommands(
        key, type, std::move(value), std::min<uint64_t>(max_bulk / 2, kMaxPartBytes));
    if (!parts.ok()) {
      return WithContext(
          parts.status(),
          absl::StrCat("RESTORE ", Quoted(key), " of ", size,
                       " bytes, over the masters' proto-max-bulk-len (", max_bulk, "): "));
    }
    bool absolute = false;
    for (size_t i = 4; i < command.size(); ++i)
      absolute |= absl::EqualsIgnoreCase(command[i], "ABSTTL");
    for (std::vector<std::string>& part : *parts) commands.push_back(std::move(part));
    if (command[2] != "0") {
      commands.push_back({absolute ? "PEXPIREAT" : "PEXPIRE", key, command[2]});
    }
  }
  unit->commands = std::move(commands);
  if (!absl::EqualsIgnoreCase(unit->commands.front()[0], "MULTI")) {
    unit->commands.insert(unit->commands.begin(), {"MULTI"});
    unit->commands.push_back({"EXEC"});
  }
  return absl::OkStatus();
}

}  // namespace reshard::engine
