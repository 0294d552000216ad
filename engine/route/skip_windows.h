#pragma once

// SkipWindows: the materialised keys the stream must not touch yet. A key
// copied from the source as of source offset O already holds the effects of
// every command up to O, so until the routed stream reaches O (the applied
// offset) each command touching that key is materialised again instead of
// forwarded; a window closes when the applied offset reaches its end. Keys
// are copied in; single-threaded; one per router.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/resp/command_table.h"
#include "engine/resp/resp_parser.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

class SkipWindows {
 public:
  // Key `key` of `db` was copied as of `source_offset`: its window runs until
  // the applied offset reaches it (extended when it already had a later-
  // ending one). No window when the applied offset is already there.
  void Open(int db, std::string_view key, uint64_t source_offset);

  // The source offset up to which the stream has been routed; the windows
  // that ended by then close.
  void SetAppliedOffset(uint64_t offset);
  uint64_t applied_offset() const { return applied_offset_; }

  // Every open window: (db, key, the source offset it ends at), e.g. for a
  // job to record them and Open them again after a restart.
  struct Window {
    int db = 0;
    std::string key;
    uint64_t end = 0;
  };
  std::vector<Window> List() const;

  // Keys inside a window.
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // Whether any of `refs` is inside a window.
  bool ContainsAny(std::span<const KeyRef> refs) const;

  // Appends to *refs the keys inside a window whose copies on the targets
  // `cmd` (row `info`) changes as a whole: every one for FLUSHALL, those of
  // `source_db` for FLUSHDB, and for SWAPDB a b those of a and b, each in
  // both dbs (it now lives in the other one, too). Nothing for any other
  // command. The refs view keys owned here, valid until the next Open or
  // SetAppliedOffset.
  void AppendAffectedBy(const CommandInfo& info, const RespCommand& cmd, int source_db,
                        std::vector<KeyRef>* refs) const;

 private:
  // Appends the keys of `from` inside a window, as keys of db `as`.
  void AppendKeysOf(int from, int as, std::vector<KeyRef>* refs) const;

  uint64_t applied_offset_ = 0;
  // db -> key -> the source offset its window ends at.
  absl::flat_hash_map<int, absl::flat_hash_map<std::string, uint64_t>> windows_;
  size_t count_ = 0;
  uint64_t min_end_ = 0;  // the earliest end, when count_ > 0
};

}  // namespace reshard::engine
