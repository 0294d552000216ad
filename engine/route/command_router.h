#pragma once

// CommandRouter turns the source's replication stream into one stream per
// target: each command goes, whole or split, to the targets whose filters
// select its keys. It tracks SELECT (the source's db and each target's) and
// regroups MULTI/EXEC per target. Single-threaded; one per job.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "engine/resp/command_table.h"
#include "engine/route/key_filter.h"
#include "engine/resp/resp_parser.h"

namespace reshard::engine {

struct TargetCounters {
  uint64_t commands_kept = 0;      // got the command, whole or a part of it
  uint64_t commands_dropped = 0;   // got nothing of it
  uint64_t commands_split = 0;     // got a part of a split command (also counted as kept)
  uint64_t keys_materialized = 0;  // RESTOREs and DELs sent by EmitMaterialized
};

// A request to copy keys from the source as they are now: all the keys (read
// and written) of a command that cannot be routed exactly, in one db.
struct Materialization {
  int db = 0;
  std::vector<std::string> keys;

  friend bool operator==(const Materialization&, const Materialization&) = default;
};

// One key as the source had it at a given offset (DUMP and its expiry).
struct MaterializedKey {
  std::string key;
  bool exists = false;
  std::string payload;  // the DUMP payload when it exists
  // 0: no expiry. Else an absolute unix time in ms when the batch's
  // absolute_ttl, a relative ttl in ms otherwise (sources without PEXPIRETIME).
  int64_t ttl_ms = 0;
};

class CommandRouter {
 public:
  // `filters[i]` is target i's filter; `target_names[i]`, when given (same
  // size), names target i in error messages instead of its index. The filters
  // and the table are not owned and must outlive the router.
  CommandRouter(std::vector<const KeyFilter*> filters, const CommandTable* table,
                std::vector<std::string> target_names = {});

  // The source's current db (from the RDB's repl-stream-db, or 0). Until this
  // or a SELECT, a command that depends on the db is an error.
  void SetSourceDb(int db) { source_db_ = db; }
  int source_db() const { return source_db_; }

  // The db target i's stream has selected: -1 = unknown, so the next command
  // for it is preceded by SELECT. Set it to -1 when the target starts a new
  // stream (e.g. after a full resync of that target).
  int target_db(size_t i) const { return target_db_[i]; }
  void SetTargetDb(size_t i, int db) { target_db_[i] = db; }

  bool in_transaction() const { return in_multi_; }

  // Appends to (*out)[i] the bytes target i must receive for `cmd` (nothing
  // when it gets nothing, or when `cmd` is inside MULTI: then at EXEC).
  // Precondition: out->size() == number of targets.
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
  // applied offset (SetAppliedOffset) reaches `source_offset`, every command
  // touching (db, key) is materialised instead of forwarded: the targets
  // already have its effects.
  void EmitMaterialized(int db, const MaterializedKey& key, bool absolute_ttl,
                        uint64_t source_offset, std::vector<std::string>* out);

  // The source offset up to which the stream has been routed; skip windows
  // that ended by then are dropped.
  void SetAppliedOffset(uint64_t offset);
  // Keys inside a skip window.
  size_t skipped_keys() const { return skipped_count_; }

  // Fail on cross-target commands instead of materialising them.
  void set_fail_on_cross_target(bool fail) { fail_on_cross_target_ = fail; }

  // Relative expiries. Sources before Redis 7.0 replicate them as sent, so a
  // target applying the stream later than the source ran it (the commands
  // buffered during the snapshot, a backlogged target) would get a later
  // expiry than the source. Once the clock is set (unix ms, > 0: when the
  // commands being routed were received from the source; the job sets it per
  // batch), they are rewritten to absolute ones:
  //   EXPIRE k s [flags]       -> PEXPIREAT k now+s*1000 [flags]
  //   PEXPIRE k ms [flags]     -> PEXPIREAT k now+ms [flags]
  //   SETEX k s v, PSETEX k ms v, SET k v [NX|XX|GET] EX s|PX ms
  //                            -> SET k v PXAT t on targets that support
  //                               PXAT, else SET k v and PEXPIREAT k t in
  //                               one transaction (MULTI ... EXEC around them
  //                               outside MULTI); like Redis 7, NX, XX and GET
  //                               go: the source ran the command.
  //   GETEX k EX s|PX ms       -> PEXPIREAT k t
  //   RESTORE k ttl v [opts]   -> RESTORE k now+ttl v [opts] ABSTTL (ttl > 0)
  // Commands already absolute, malformed ones (left for the target to
  // reject) and expiries whose absolute time would overflow pass unchanged.
  // Redis 7+ sources send absolute forms only, so the rewrite changes nothing
  // there. Clock 0 (the default) or disabled: no rewrite.
  void SetNowMs(int64_t now_ms) { now_ms_ = now_ms; }
  int64_t now_ms() const { return now_ms_; }
  void set_rewrite_relative_expiries(bool rewrite) { rewrite_expiries_ = rewrite; }
  // Whether target i accepts SET ... PXAT (Redis >= 6.2, Valkey); default
  // false: the SET + PEXPIREAT form every Redis accepts.
  void SetTargetSupportsPxat(size_t i, bool supports) { pxat_[i] = supports ? 1 : 0; }

  // Counted per routed command (not SELECT, MULTI, EXEC or keepalives), when
  // it is routed: inside MULTI before EXEC, and a DISCARDed one stays counted.
  const TargetCounters& counters(size_t i) const { return counters_[i]; }
  size_t target_count() const { return filters_.size(); }

 private:
  absl::Status RouteByKeys(const CommandInfo& info, const RespCommand& cmd,
                           std::vector<std::string>* out,
                           std::vector<Materialization>* materialize);
  // The (db, key) pairs `cmd` touches: keys_ in the source's db, plus the
  // other db of MOVE and COPY ... DB.
  void KeyRefs(const CommandInfo& info, const RespCommand& cmd);
  bool TouchesSkipped() const;
  // Appends refs_ to *materialize, grouped by db, without duplicates.
  void RequestRefs(std::vector<Materialization>* materialize) const;
  // After FLUSHALL / FLUSHDB / SWAPDB: the skipped keys they affect.
  void RequestSkippedAfter(const CommandInfo& info, const RespCommand& cmd,
                           std::vector<Materialization>* materialize);
  // A part per target (kSplitKeys) once the keys' targets differ; uses keys_
  // and selected_ (keys x targets, row-major) filled by RouteByKeys.
  absl::Status RouteSplit(const CommandInfo& info, const RespCommand& cmd,
                          std::vector<std::string>* out);
  // The policy for a command whose keys select different targets and that
  // cannot be split: for now, an error naming the keys and their targets.
  absl::Status RouteCrossTarget(const CommandInfo& info, const RespCommand& cmd);
  absl::Status SourceDbKnown(const CommandInfo& info) const;
  // When `cmd` carries a relative expiry that the clock turns into an
  // absolute one: fills expiry_pxat_ (the bytes for targets with PXAT) and
  // expiry_compat_ (for the others; empty when they get expiry_pxat_ too).
  bool RewriteRelativeExpiry(const CommandInfo& info, const RespCommand& cmd);
  // The bytes target i gets for the command RewriteRelativeExpiry rewrote.
  const std::string& RewrittenFor(size_t i) const {
    return pxat_[i] || expiry_compat_.empty() ? expiry_pxat_ : expiry_compat_;
  }

  // Where target i's next bytes go (its transaction part inside MULTI),
  // after a SELECT when `needs_db` and the target's db differs.
  std::string& Sink(size_t i, bool needs_db, std::vector<std::string>* out);
  // The same in `db` rather than the source's db.
  std::string& SinkInDb(size_t i, int db, std::vector<std::string>* out);
  std::string TargetLabel(size_t i) const;
  std::string TargetList(const uint8_t* selected) const;

  std::vector<const KeyFilter*> filters_;
  const CommandTable* table_;
  std::vector<std::string> names_;
  std::vector<TargetCounters> counters_;

  int source_db_ = -1;
  std::vector<int> target_db_;

  // MULTI ... EXEC: per target, its part so far, the db it will have selected
  // after the part, and whether the part holds a command.
  bool in_multi_ = false;
  int source_db_before_multi_ = -1;
  std::vector<std::string> txn_;
  std::vector<int> txn_db_;
  std::vector<uint8_t> txn_used_;

  // Materialised keys inside their skip window: db -> key -> the source
  // offset the window ends at.
  bool fail_on_cross_target_ = false;
  uint64_t applied_offset_ = 0;
  absl::flat_hash_map<int, absl::flat_hash_map<std::string, uint64_t>> skipped_;
  size_t skipped_count_ = 0;
  uint64_t min_skip_offset_ = 0;
  std::vector<std::pair<int, std::string_view>> refs_;

  int64_t now_ms_ = 0;
  bool rewrite_expiries_ = true;
  std::vector<uint8_t> pxat_;
  std::string expiry_pxat_;
  std::string expiry_compat_;

  // Scratch, kept to reuse capacity.
  std::vector<size_t> keys_;
  std::vector<uint8_t> selected_;
  std::vector<std::string_view> part_;
};

}  // namespace reshard::engine
