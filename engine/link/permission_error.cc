#include "engine/link/permission_error.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {
namespace {

// The commands reshardd sends as the source's or a managed target's user.
// Categories checked against Redis 7.0.15's COMMAND INFO (generated from its
// src/commands/*.json: ADMIN gives @admin @dangerous, no FAST gives @slow);
// hpexpiretime is Redis 7.4's. The rules are README.md's.
constexpr std::array<AclCommandRule, 32> kRules = {{
    {"client|pause", "@admin @slow @dangerous @connection", "+client|pause"},
    {"client|unpause", "@admin @slow @dangerous @connection", "+client|unpause"},
    {"command", "@slow @connection", "+command"},
    {"command|count", "@slow @connection", "+command"},
    {"command|docs", "@slow @connection", "+command"},
    {"command|info", "@slow @connection", "+command"},
    {"config|get", "@admin @slow @dangerous", "+config|get"},
    {"config|set", "@admin @slow @dangerous", "+config|set"},
    {"dbsize", "@keyspace @read @fast", "+dbsize"},
    {"dump", "@keyspace @read @slow", "+dump"},
    {"exec", "@slow @transaction", "+exec"},
    {"exists", "@keyspace @read @fast", "+exists"},
    {"get", "@read @string @fast", "+get"},
    {"hgetall", "@read @hash @slow", "+hgetall"},
    {"hpexpiretime", "@read @hash @fast", "+hpexpiretime"},
    {"info", "@slow @dangerous", "+info"},
    {"lrange", "@read @list @slow", "+lrange"},
    {"multi", "@fast @transaction", "+multi"},
    {"pexpiretime", "@keyspace @read @fast", "+pexpiretime"},
    {"ping", "@fast @connection", "+ping"},
    {"psync", "@admin @slow @dangerous", "+psync"},
    {"pttl", "@keyspace @read @fast", "+pttl"},
    {"replconf", "@admin @slow @dangerous", "+replconf"},
    {"replicaof", "@admin @slow @dangerous", "+replicaof"},
    {"scan", "@keyspace @read @slow", "+scan"},
    {"select", "@fast @connection", "+select"},
    {"slaveof", "@admin @slow @dangerous", "+replicaof"},
    {"smembers", "@read @set @slow", "+smembers"},
    {"sync", "@admin @slow @dangerous", "+psync"},
    {"type", "@keyspace @read @fast", "+type"},
    {"xinfo|stream", "@read @stream @slow", "+xinfo|stream"},
    {"zrange", "@read @sortedset @slow", "+zrange"},
}};

// Containers whose subcommands have ACL names of their own (Redis 7).
bool IsContainer(std::string_view name) {
  return name == "client" || name == "config" || name == "command" || name == "xinfo" ||
         name == "object" || name == "memory" || name == "acl" || name == "cluster";
}

constexpr char kReadme[] = "(README.md, Least privilege)";

}  // namespace

bool IsAclRefusal(std::string_view error) { return absl::StartsWith(AsAbsl(error), "NOPERM"); }

std::string AclCommandName(const std::vector<std::string>& args) {
  if (args.empty()) return "";
  std::string name = absl::AsciiStrToLower(args[0]);
  if (args.size() > 1 && IsContainer(name)) {
    absl::StrAppend(&name, "|", absl::AsciiStrToLower(args[1]));
  }
  return name;
}

const AclCommandRule* FindAclCommandRule(std::string_view command) {
  for (const AclCommandRule& rule : kRules) {
    if (rule.command == command) return &rule;
  }
  return nullptr;
}

std::span<const AclCommandRule> AclCommandRules() { return kRules; }

std::string RefusedCommand(const AclRefusal& refusal) {
  // Redis 7.0: "... no permissions to run the 'psync' command"; 7.2 and
  // Valkey: "User u has no permissions to run the 'psync' command".
  constexpr std::string_view kRun = "to run the '";
  std::string_view error = refusal.error;
  size_t at = error.find(kRun);
  if (at != std::string_view::npos) {
    size_t begin = at + kRun.size();
    size_t end = error.find('\'', begin);
    if (end != std::string_view::npos && end > begin) {
      return absl::AsciiStrToLower(AsAbsl(error.substr(begin, end - begin)));
    }
  }
  return refusal.sent;
}

std::string AclRefusalMessage(const AclRefusal& refusal) {
  const std::string who = absl::StrCat(
      "NOPERM user '", refusal.user.empty() ? "default" : refusal.user, "' on ", refusal.peer);
  std::string command = RefusedCommand(refusal);
  if (command.empty()) return absl::StrCat(who, ": ", refusal.error);
  if (absl::StrContains(refusal.error, "access one of the keys")) {
    return absl::StrCat(who, " may not access the keys of '", command,
                        "': add the key rule %R~* to its ACL rules ", kReadme);
  }
  if (!absl::StrContains(refusal.error, "to run the '")) {
    return absl::StrCat(who, ": ", refusal.error);  // channels, or a text we do not know
  }
  const AclCommandRule* known = FindAclCommandRule(command);
  std::string categories = refusal.categories;
  if (categories.empty() && known != nullptr) categories = std::string(known->categories);
  std::string rule = known != nullptr ? std::string(known->rule) : absl::StrCat("+", command);
  return absl::StrCat(who, " may not run '", command, "'",
                      categories.empty() ? "" : absl::StrCat(" (ACL categories ", categories, ")"),
                      ": add ", rule, " to its ACL rules ", kReadme);
}

}  // namespace reshard::engine
