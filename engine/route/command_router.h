#pragma once

// CommandRouter turns the source's replication stream into one stream per
// target: each command goes, whole or split, to the targets whose filters
// select its keys. The path of one command through Route:
//   1. the command table (engine/resp/command_table.h) says how it routes
//      (RouteKind) and where its keys are;
//   2. a keyed command inside a skip window (skip_windows.h), or one whose
//      keys select different targets and that cannot be split, is
//      materialised: its keys are requested from the source
//      (materialization.h) instead of forwarding it; inside covering windows
//      only, it is dropped (the copies hold its effect); SMOVE and MSETNX
//      across targets are split exactly (SREM + SADD; MSET parts);
//   3. each target's filter picks the keys it gets: the whole command, its
//      part (split per target), or nothing; a single-key command with a
//      relative expiry gets an absolute one (expiry_rewriter.h);
//   4. the bytes go to the target's output, after a SELECT when its stream is
//      in another db (db_tracker.h), or into its transaction part inside
//      MULTI, sent at EXEC (transaction_builder.h).
// Inspect answers, without routing, what Route would need for a command (its
// keys, whether it is materialised, whether it must wait for everything
// before it), so the job can route commands on other keys while earlier
// ones wait for their copies (engine/job/stream_router.h).
// Filters and table are not owned and must outlive the router.
// Single-threaded; one per job.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/resp/command_table.h"
#include "engine/resp/resp_parser.h"
#include "engine/route/command_needs.h"
#include "engine/route/db_tracker.h"
#include "engine/route/expiry_rewriter.h"
#include "engine/route/key_filter.h"
#include "engine/route/materialization.h"
#include "engine/route/skip_windows.h"
#include "engine/route/transaction_builder.h"

namespace reshard::engine {

// What the router did with the commands, for one target. Counted per routed
// command (not SELECT, MULTI, EXEC or keepalives), when it is routed: inside
// MULTI before EXEC, and a DISCARDed one stays counted.
struct RouteCounters {
  uint64_t commands_kept = 0;      // got the command, whole or a part of it
  uint64_t commands_dropped = 0;   // got nothing of it
  uint64_t commands_split = 0;     // got a part of a split command (also counted as kept)
  uint64_t keys_materialized = 0;  // RESTOREs and DELs sent by EmitMaterialized
};

class CommandRouter {
 public:
  // `filters[i]` is target i's filter; `target_names[i]`, when given (same
  // size), names target i in error messages instead of its index.
  CommandRouter(std::vector<const KeyFilter*> filters, const CommandTable* table,
                std::vector<std::string> target_names = {});

  // The source's current db (from the RDB's repl-stream-db, or 0). Until this
  // or a SELECT, a command that depends on the db is an error.
  void SetSourceDb(int db) { dbs_.SetSourceDb(db); }
  int source_db() const { return dbs_.source_db(); }

  // The db target i's stream has selected: -1 = unknown, so the next command
  // for it is preceded by SELECT. Set it to -1 when the target starts a new
  // stream (e.g. after a full resync of that target).
  int target_db(size_t i) const { return dbs_.target_db(i); }
  void SetTargetDb(size_t i, int db) { dbs_.SetTargetDb(i, db); }

  bool in_transaction() const { return txn_.open(); }

  // Appends to (*out)[i] the bytes target i must receive for `cmd` (nothing
  // when it gets nothing, or when `cmd` is inside MULTI: then at EXEC).
  // Precondition: out->size() == number of targets (else INVALID_ARGUMENT).
  // Errors, after which nothing of `cmd` has been appended (the job must stop:
  // the router's transaction state is then unspecified):
  //  FAILED_PRECONDITION: an unknown command; a multi-key command whose keys
  //    select different targets and that cannot be split exactly (RENAME,
  //    SMOVE, MSETNX, BITOP, *STORE, EVAL, ...); REPLCONF (the job handles it);
  //    a command before the source's db is known; MULTI inside MULTI, EXEC or
  //    DISCARD outside.
  //  INVALID_ARGUMENT: a malformed command (arity, key count, SELECT index).
  absl::Status Route(const RespCommand& cmd, std::vector<std::string>* out);

  // Like Route, but a command that cannot be routed exactly is materialised
  // instead of failing: nothing of it is appended and `*materialize` gets the
  // (db, keys) to copy from the source, which the caller fetches and passes,
  // key by key, to EmitMaterialized. That is so for a multi-key command whose
  // keys select different targets and that cannot be split, and for any
  // keyed command touching a key inside its skip window (see
  // EmitMaterialized); after FLUSHALL, FLUSHDB or SWAPDB (forwarded as
  // usual) every skipped key they affect is requested again. With
  // set_fail_on_cross_target(true), or a null `materialize`, cross-target
  // commands are errors as in Route. Precondition: materialize is empty.
  absl::Status Route(const RespCommand& cmd, std::vector<std::string>* out,
                     std::vector<Materialization>* materialize);

  // Sends `key` of `db` as the source had it at `source_offset` to every
  // target whose filter selects it: RESTORE key ttl payload REPLACE [ABSTTL]
  // (`absolute_ttl`), or DEL key when it did not exist, after a SELECT when
  // needed, into the current transaction part inside MULTI. Until the
  // stream reaches `source_offset`, every command touching (db, key) is
  // materialised instead of forwarded (or, in a covering window, dropped):
  // the targets already have its effects. Nothing is sent when a covering
  // window already holds the key at that offset or later.
  void EmitMaterialized(int db, const MaterializedKey& key, bool absolute_ttl,
                        uint64_t source_offset, std::vector<std::string>* out);

  // What Route would need for `cmd`, without routing it or changing
  // anything: `*db` is the source's db before it (kUnknownDb when not
  // known), and after it when `cmd` is a SELECT. Uses the position set by
  // SetCommandOffset for the skip windows.
  void Inspect(const RespCommand& cmd, int* db, CommandNeeds* needs);

  // The source offset up to which the stream has been routed; skip windows
  // that ended by then are dropped. Also the position of the next command.
  void SetAppliedOffset(uint64_t offset) { skips_.SetAppliedOffset(offset); }
  // The source offset where the next routed (or inspected) command starts,
  // when it is past the applied offset: earlier commands wait for copies.
  void SetCommandOffset(uint64_t offset) { skips_.SetPosition(offset); }
  // Keys inside a skip window.
  size_t skipped_keys() const { return skips_.size(); }
  // Whether the windows EmitMaterialized opens from now on cover (see
  // skip_windows.h): only while every target receives what is emitted in
  // its own stream (no target waits for a snapshot of its own). Off by
  // default.
  void set_cover_new_windows(bool cover) { cover_new_windows_ = cover; }
  // Every open window stops covering (a target's stream restarts).
  void StopWindowCover() { skips_.StopCovering(); }
  // The skip windows, to record them; OpenSkipWindow restores one (after a
  // restart of reshardd, before the stream goes on). A restored window does
  // not cover: a command inside it copies its keys again.
  const SkipWindows& skip_windows() const { return skips_; }
  void OpenSkipWindow(int db, std::string_view key, uint64_t source_offset) {
    skips_.Open(db, key, source_offset, /*covering=*/false);
  }

  // Fail on cross-target commands instead of materialising them.
  void set_fail_on_cross_target(bool fail) { fail_on_cross_target_ = fail; }

  // Target i is a Redis Cluster: a command must reach it with the keys of one
  // hash slot, so one whose keys select it from different slots is handled
  // as a cross-target one (split per slot by the cluster writer when it can
  // be split, SMOVE as SREM + SADD, else its written keys copied).
  void SetTargetIsCluster(size_t i, bool cluster);

  // Relative expiries made absolute (see expiry_rewriter.h): the clock (unix
  // ms when the commands being routed were received; 0, the default: no
  // rewrite), the switch, and whether target i accepts SET ... PXAT (default
  // false: SET + PEXPIREAT).
  void SetNowMs(int64_t now_ms) { expiry_.SetNowMs(now_ms); }
  int64_t now_ms() const { return expiry_.now_ms(); }
  void set_rewrite_relative_expiries(bool rewrite) { expiry_.set_enabled(rewrite); }
  void SetTargetSupportsPxat(size_t i, bool supports) {
    expiry_.SetTargetSupportsPxat(i, supports);
  }

  const RouteCounters& counters(size_t i) const { return counters_[i]; }
  size_t target_count() const { return filters_.size(); }

 private:
  absl::Status RouteByKeys(const CommandInfo& info, const RespCommand& cmd,
                           std::vector<std::string>* out,
                           std::vector<Materialization>* materialize);
  // Fills keys_, refs_ and written_ for a keyed command in `db`; an error for
  // what Route refuses (no keys, SORT reading other keys, unknown db).
  absl::Status FindKeys(const CommandInfo& info, const RespCommand& cmd, int db);
  // What the skip windows say about refs_: kNone (no window), kCovered
  // (every key it changes in a covering window: drop it) or kRecopy (copy the
  // keys it changes that are not covered, appended to *copies when given).
  SkipWindows::Hit CheckWindows(std::vector<KeyRef>* copies) const;
  // Fills selected_ (keys x targets, row-major) from keys_; whether every
  // key selects the same targets.
  bool SelectTargets(const RespCommand& cmd);
  // Whether a command whose keys select different targets is routed
  // exactly without copies (split per target, SMOVE).
  static bool SplitsAcrossTargets(const CommandInfo& info);
  // Whether the command goes whole to the targets its keys select: they
  // select the same targets (SelectTargets) and, unless the cluster writer
  // splits it per slot (kSplitKeys), no cluster target gets keys of two
  // slots. Fills selected_.
  bool RoutesWhole(const CommandInfo& info, const RespCommand& cmd);
  // Whether a cluster target is selected by keys of different slots; uses
  // selected_. `*target`, when given, gets the first such target.
  bool SpansClusterSlots(const RespCommand& cmd, size_t* target = nullptr) const;
  // SMOVE src dst, both selecting cluster target i, in different slots.
  bool MovesAcrossSlots(size_t i, const RespCommand& cmd) const;
  // SMOVE src dst member across targets: SREM to src's, SADD to dst's.
  absl::Status RouteMoveMember(const RespCommand& cmd, std::vector<std::string>* out);
  // Whole, to every target (in the source's db when `in_db`).
  void RouteBroadcast(const RespCommand& cmd, bool in_db, std::vector<std::string>* out);
  // A part per target (kSplitKeys) once the keys' targets differ; uses keys_
  // and selected_ (keys x targets, row-major) filled by RouteByKeys.
  absl::Status RouteSplit(const CommandInfo& info, const RespCommand& cmd,
                          std::vector<std::string>* out);
  // The policy for a command whose keys select different targets and that
  // cannot be split, when it is not materialised: FAILED_PRECONDITION naming
  // the keys and their targets.
  absl::Status RefuseCrossTarget(const CommandInfo& info, const RespCommand& cmd);
  // Fills refs_ with the (db, key) pairs `cmd` touches: keys_ in the source's
  // db, plus the other db of MOVE and COPY ... DB.
  void FillKeyRefs(const CommandInfo& info, const RespCommand& cmd, int db);

  // Where target i's next bytes go: its output, or its transaction part
  // inside MULTI.
  std::string& Sink(size_t i, std::vector<std::string>* out);
  // The same after a SELECT of `db` when the target's stream is in another.
  std::string& SinkInDb(size_t i, int db, std::vector<std::string>* out);
  std::string TargetLabel(size_t i) const;
  std::string TargetList(const uint8_t* selected) const;

  std::vector<const KeyFilter*> filters_;
  const CommandTable* table_;
  std::vector<std::string> names_;
  std::vector<RouteCounters> counters_;
  bool fail_on_cross_target_ = false;
  bool cover_new_windows_ = false;
  std::vector<uint8_t> cluster_;  // per target: a Redis Cluster
  bool any_cluster_ = false;

  DbTracker dbs_;
  TransactionBuilder txn_;
  ExpiryRewriter expiry_;
  SkipWindows skips_;

  // Scratch, kept to reuse capacity.
  std::vector<size_t> keys_;
  std::vector<uint8_t> selected_;
  std::vector<std::string_view> part_;
  std::vector<uint8_t> read_only_;    // per key in keys_: its spec only reads it
  std::vector<KeyRef> refs_;          // (db, key) of each key, and MOVE's other db
  std::vector<uint8_t> ref_written_;  // per ref: the command may change it
  std::vector<KeyRef> written_;       // the refs it may change
};

}  // namespace reshard::engine
