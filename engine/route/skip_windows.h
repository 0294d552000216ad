#pragma once

// SkipWindows: the materialised keys the stream must not touch yet. A key
// copied from the source as of source offset O already holds the effects of
// every command up to O, so until the stream reaches O a command touching
// that key must not be forwarded: the key's window runs to O.
//
// A window is *covering* when every target that selects the key got the copy
// as of O in its stream: a command inside it adds nothing to that key and is
// dropped for it. Any other window (opened while a target's stream restarts
// from a snapshot of its own, or one that a FLUSHALL, FLUSHDB or SWAPDB went
// through) only says "copy this key again": each command inside it
// materialises its keys anew (the original rule, always exact).
//
// Two offsets: the applied offset (every command before it has been routed;
// windows that end by then close) and the position (where the command being
// looked at starts; a window holds it when it ends after the position). The
// position is the applied offset unless set past it (a command routed while
// earlier ones still wait for their copies). Keys are copied in;
// single-threaded; one per router.

#include <cstddef>
#include <cstdint>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "engine/resp/command_table.h"
#include "engine/resp/resp_parser.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

class SkipWindows {
 public:
  // What a window means for a command at the position.
  enum class Hit {
    kNone,     // no window: the key goes as usual
    kCovered,  // a covering window: the targets already hold the command's effect
    kRecopy,   // another window: the key must be copied again
  };

  // Key `key` of `db` was copied as of `source_offset`. Returns whether the
  // copy must be sent to the targets: false only when a covering window
  // already holds the key at that offset or later (the targets have a copy
  // at least as new). A sent copy opens a window to `source_offset`, covering
  // when `covering` (or extends one: a window never shrinks; it covers only
  // when the newest copy sent opened it so). No window when the applied
  // offset is already there.
  bool Open(int db, std::string_view key, uint64_t source_offset, bool covering);

  // The source offset up to which the stream has been routed: the windows
  // that ended by then close. Also sets the position to `offset`.
  void SetAppliedOffset(uint64_t offset);
  uint64_t applied_offset() const { return applied_offset_; }
  // Where the command looked at next starts (>= the applied offset).
  void SetPosition(uint64_t offset) { position_ = offset; }
  uint64_t position() const { return position_; }

  // Every open window stops covering (a target starts a new stream, or a
  // flush went through the targets' copies).
  void StopCovering() { cover_generation_ = ++generation_; }

  // Every open window: (db, key, the source offset it ends at), e.g. for a
  // job to record them and Open them again after a restart.
  struct OpenWindow {
    int db = 0;
    std::string key;
    uint64_t end = 0;
  };
  std::vector<OpenWindow> List() const;

  // Keys inside a window (open, not yet closed by the applied offset).
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // What the window of `ref`, if any, means at the position.
  Hit Check(const KeyRef& ref) const;
  // Whether any of `refs` has a window at the position.
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
  struct Window {
    uint64_t end = 0;
    uint64_t generation = 0;  // covering while >= cover_generation_
    bool covering = false;
  };
  // (end, db, key): the order windows close in; stale entries (a window
  // extended since) are skipped. The key points into windows_ (a node map:
  // stable), which keeps a window until its latest entry, the last of its
  // entries to come out, closes it.
  using Closing = std::tuple<uint64_t, int, const std::string*>;

  // Appends the keys of `from` inside a window, as keys of db `as`.
  void AppendKeysOf(int from, int as, std::vector<KeyRef>* refs) const;
  bool Covers(const Window& window) const {
    return window.covering && window.generation >= cover_generation_;
  }

  uint64_t applied_offset_ = 0;
  uint64_t position_ = 0;
  uint64_t generation_ = 0;
  uint64_t cover_generation_ = 0;
  // db -> key -> its window.
  absl::flat_hash_map<int, absl::node_hash_map<std::string, Window>> windows_;
  std::priority_queue<Closing, std::vector<Closing>, std::greater<Closing>> closing_;
  size_t count_ = 0;
};

}  // namespace reshard::engine
