#pragma once

// How the stream of one cluster target is cut into the units a Redis Cluster
// accepts: a command (or a MULTI ... EXEC) goes to the master of the one hash
// slot its keys hash to. A write whose keys span slots is split per slot
// where that is exact (the kSplitKeys commands: DEL, UNLINK, MSET, MSETNX as
// MSET since the source applied it, ...); anything else is refused, naming
// the command. Pure functions: no state, no I/O.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/resp/command_table.h"

namespace reshard::engine {

// One request to one master, applied whole or retried whole.
struct ClusterUnit {
  static constexpr int kEveryMaster = -1;
  // The hash slot whose master applies it, or kEveryMaster (FLUSHALL,
  // SCRIPT LOAD, FUNCTION LOAD, ...).
  int slot = kEveryMaster;
  // One command, or MULTI, the commands, EXEC.
  std::vector<std::vector<std::string>> commands;
  uint64_t offset = 0;  // where the command (or the MULTI) starts in the stream
  // One key of the snapshot: a RESTORE, or the MULTI that rebuilds a value
  // too big for one (counted in the node's keys_restored).
  bool snapshot_key = false;
};

// Names the unit in errors: "SET 'user:1' (stream offset 1234)",
// "MULTI (3 commands, stream offset 99)", "RESTORE 'k'", "the snapshot's
// 'k' rebuilt in parts (9 commands in a MULTI)".
std::string DescribeClusterUnit(const ClusterUnit& unit);

// Appends the units of one command to *out (none for PING and for what a
// cluster has no use for). `offset` names it in errors. FAILED_PRECONDITION
// for an unknown command, a keyed command outside db 0 ("... db 3: a
// cluster has db 0 only"), SWAPDB, and a write whose keys span slots and
// cannot be split ("RENAME at stream offset 77 writes keys of slots 5474
// and 15495 ('a', 'b'): a cluster applies a command to one slot only").
absl::Status SplitCommandForCluster(const CommandTable& table,
                                    std::span<const std::string_view> args, int db, uint64_t offset,
                                    std::vector<ClusterUnit>* out);

// Appends the units of a transaction (the commands between MULTI and EXEC)
// to *out: one MULTI ... EXEC per slot, in order of first use (commands of
// different slots touch different keys, so they commute); with a command for
// every master in it, every command is a unit of its own, in order.
absl::Status SplitTransactionForCluster(const CommandTable& table,
                                        const std::vector<std::vector<std::string>>& commands,
                                        int db, uint64_t offset, std::vector<ClusterUnit>* out);

// Replaces, inside `unit`, each RESTORE whose payload is longer than
// `max_bulk` (the masters' proto-max-bulk-len refuses it) by the commands
// that rebuild its value in parts (engine/rdb/rdb_value_rebuild.h) and its
// expiry (PEXPIREAT with ABSTTL, else PEXPIRE), in a MULTI unless the unit
// is one already. Errors name the key: a type that cannot be rebuilt, a
// malformed payload.
absl::Status RebuildOversizedRestores(uint64_t max_bulk, ClusterUnit* unit);

}  // namespace reshard::engine
