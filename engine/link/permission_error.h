#pragma once

// An ACL refusal (-NOPERM) as one clear error: which connection and user,
// which command, its ACL categories and the rule of README.md's "Least
// privilege" lines that allows it. Every connection reshardd opens as a user
// (the replication link, key copies, the source monitor, verify, cutover, the
// managed targets' configuration) goes through RedisConnection, which turns a
// -NOPERM reply into this message (redis_connection.h); the key materialiser,
// which reads its pipelined replies itself, calls it directly.
//
//   NOPERM user 'reshard-source' on source 127.0.0.1:6379 may not run 'psync'
//   (ACL categories @admin @slow @dangerous): add +psync to its ACL rules
//   (README.md, Least privilege)

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reshard::engine {

// Whether a Redis error reply's text is an ACL refusal ("NOPERM ...").
bool IsAclRefusal(std::string_view error);

// A command's ACL name, lower case: "psync", or "container|subcommand" for
// the commands Redis 7 splits ("config|set", "client|pause", "xinfo|stream").
// Empty for an empty command.
std::string AclCommandName(const std::vector<std::string>& args);

// A command reshardd sends as a user: its ACL categories (as Redis 7.0's
// COMMAND INFO gives them, derived from src/commands/*.json) and the rule of
// README.md's Least privilege lines that allows it.
struct AclCommandRule {
  std::string_view command;     // "client|pause"
  std::string_view categories;  // "@admin @slow @dangerous @connection"
  std::string_view rule;        // "+client|pause"
};
// The built-in entry for `command` (an ACL name), or nullptr.
const AclCommandRule* FindAclCommandRule(std::string_view command);
// Every built-in entry (acl_test compares them with a live server's).
std::span<const AclCommandRule> AclCommandRules();

// What is known of one refusal.
struct AclRefusal {
  std::string peer;        // the connection: "source 127.0.0.1:6379"
  std::string user;        // the ACL user: "reshard-source" ("default" without AUTH user)
  std::string sent;        // the ACL name of the refused command when known, else empty
  std::string error;       // Redis's text: "NOPERM this user has no permissions to run ..."
  std::string categories;  // from the server's COMMAND INFO; empty: the built-in table
};

// The refused command: the one Redis's text names ('psync' in "... to run the
// 'psync' command"), else `sent`.
std::string RefusedCommand(const AclRefusal& refusal);

// The one message, starting with "NOPERM" (code that tests for the prefix
// keeps working). A refusal about keys ("... to access one of the keys ...")
// names the key rule (%R~*); one whose command is unknown keeps Redis's text.
std::string AclRefusalMessage(const AclRefusal& refusal);

}  // namespace reshard::engine
