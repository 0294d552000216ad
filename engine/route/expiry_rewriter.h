#pragma once

// ExpiryRewriter makes relative expiries absolute. Sources before Redis 7.0
// replicate them as sent, so a target applying the stream later than the
// source ran it (the commands buffered during the snapshot, a backlogged
// target) would get a later expiry than the source. Once the clock is set
// (unix ms, > 0: when the commands being routed were received from the
// source; the job sets it per batch), they are rewritten to absolute ones:
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
// Commands already absolute, malformed ones (left for the target to reject)
// and expiries whose absolute time would overflow pass unchanged. Redis 7+
// sources send absolute forms only, so the rewrite changes nothing there.
// Clock 0 (the default) or disabled: no rewrite. Single-threaded; one per
// router.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/resp/command_table.h"
#include "engine/resp/resp_parser.h"

namespace reshard::engine {

class ExpiryRewriter {
 public:
  explicit ExpiryRewriter(size_t target_count) : pxat_(target_count, 0) {}

  void SetNowMs(int64_t now_ms) { now_ms_ = now_ms; }
  int64_t now_ms() const { return now_ms_; }
  void set_enabled(bool enabled) { enabled_ = enabled; }
  // Whether target i accepts SET ... PXAT (Redis >= 6.2, Valkey); default
  // false: the SET + PEXPIREAT form every Redis accepts.
  void SetTargetSupportsPxat(size_t i, bool supports) { pxat_[i] = supports ? 1 : 0; }

  // True when `cmd` (whose row is `info`) carries a relative expiry that the
  // clock turns into an absolute one; then For(i) holds the bytes target i
  // gets instead of cmd.wire. `in_transaction`: the command is inside MULTI,
  // so the SET + PEXPIREAT form needs no MULTI ... EXEC of its own. False,
  // and nothing to use, otherwise.
  bool Rewrite(const CommandInfo& info, const RespCommand& cmd, bool in_transaction);

  // The bytes target i gets for the command the last Rewrite that returned
  // true rewrote; valid until the next Rewrite.
  std::string_view For(size_t i) const {
    return pxat_[i] || compat_.empty() ? pxat_form_ : compat_;
  }

 private:
  // SET key value with the absolute expiry `at`, in both forms.
  void SetWithExpiry(std::string_view key, std::string_view value, int64_t at, bool in_transaction);

  int64_t now_ms_ = 0;
  bool enabled_ = true;
  std::vector<uint8_t> pxat_;
  std::string pxat_form_;  // for targets with PXAT (and every target when compat_ is empty)
  std::string compat_;     // for the others, when they need another form
  std::vector<std::string_view> args_;  // scratch
};

}  // namespace reshard::engine
