#pragma once

// CommandTable says, for each command a source can put in its replication
// stream, where its keys are and how the router treats it. Builtin() covers
// Redis 6.0-7.2 and the keyed commands of Redis 7.4-8.4 and Valkey 9; FromCommandReply() lays the
// source's own COMMAND reply (Redis 7 key specs, see key_spec.h) over a copy of it, which stays the
// fallback for route kinds and for what an old server's reply leaves out.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/resp/key_spec.h"
#include "engine/resp/resp_reply.h"

namespace reshard::engine {

// What the router does with a command.
enum class RouteKind {
  kKeyed,          // whole, to the targets its keys select; keys that select
                   // different targets are an error (cross-target write)
  kSplitKeys,      // split per target, each part with only that target's keys:
                   // the keys are one range spec, each key with the keystep-1
                   // arguments after it (DEL, UNLINK, EXISTS, TOUCH, MSET, MSETNX)
  kBroadcast,      // whole, to every target, whatever the db (PING, FLUSHALL,
                   // SWAPDB, PUBLISH, SCRIPT LOAD, FUNCTION LOAD, ...)
  kBroadcastInDb,  // whole, to every target, in the source's db (FLUSHDB)
  kSelect,         // changes the source's db; never forwarded as is
  kMulti,          // starts a transaction
  kExec,           // ends it
  kDiscard,        // drops it
  kIntercepted,    // handled by the job before routing (REPLCONF)
};

// How the keys are found.
enum class KeyFinder {
  kSpecs,  // by key_specs
  kSort,   // SORT/SORT_RO: the key, plus the argument after the last STORE
};

struct CommandInfo {
  std::string name;  // upper-case; "XGROUP|CREATE" for a subcommand
  int arity = 0;     // as COMMAND: n = exactly n arguments (name included), -n = at least n
  bool write = false;
  RouteKind route = RouteKind::kKeyed;
  KeyFinder finder = KeyFinder::kSpecs;
  std::vector<KeySpec> key_specs;
  bool has_subcommands = false;  // the row to use is "NAME|<args[1]>"

  friend bool operator==(const CommandInfo&, const CommandInfo&) = default;
};

class CommandTable {
 public:
  CommandTable() = default;

  // The table for Redis 6.0-7.2 (and the keyed commands of Redis 7.4-8.4 and
  // Valkey 9), built once on first use; never destroyed.
  static const CommandTable& Builtin();

  // A table from a live server's COMMAND reply (RESP2 or RESP3), on top of a
  // copy of `base`: each command (and subcommand) whose key positions the
  // reply describes completely gets the server's arity, write flag and keys
  // (Redis 7 key specs; first/last/step from older servers), keeping base's
  // route kind (kKeyed for a command base lacks). Commands whose keys the
  // reply describes only partly (movable keys before 7.0; "unknown" or
  // INCOMPLETE key specs; keyword-found keys before 7.0), and keyless
  // commands, keep base's row or stay unknown. INVALID_ARGUMENT when the
  // reply is not a COMMAND reply.
  static absl::StatusOr<CommandTable> FromCommandReply(const RespValue& reply,
                                                       const CommandTable& base);

  // Adds `info`, replacing a row of the same name.
  void Add(CommandInfo info);

  // The row for a command: args[0] case-insensitively, then "NAME|args[1]"
  // when that row has subcommands. nullptr for an unknown command or
  // subcommand. The pointer is valid until the next Add().
  const CommandInfo* Find(std::span<const std::string_view> args) const;

  // The row named `name` (any case, "XGROUP|CREATE" for a subcommand).
  const CommandInfo* FindByName(std::string_view name) const;

  size_t size() const { return commands_.size(); }

  // Every row, in no particular order (for tests and diagnostics).
  std::vector<const CommandInfo*> Rows() const;

 private:
  absl::flat_hash_map<std::string, CommandInfo> commands_;
};

// Appends to *keys the indexes into `args` of the command's keys, after
// checking its arity, and to *read_only (when given) 1 for each key the
// command only reads (key spec flag RO; SORT ... STORE's source). INVALID_ARGUMENT
// (naming the command) when the command is malformed so that its keys cannot
// be found.
absl::Status FindCommandKeys(const CommandInfo& info, std::span<const std::string_view> args,
                             std::vector<size_t>* keys, std::vector<uint8_t>* read_only = nullptr);

// The rows of CommandTable::Builtin() (command_table_builtin.cc).
std::vector<CommandInfo> BuiltinCommands();

}  // namespace reshard::engine
