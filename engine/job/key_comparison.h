#pragma once

// How the verifier (engine/job/key_verifier.h) compares one key as the
// source and a target hold it, from the replies to DUMP and to the expiry
// command (PEXPIRETIME where every server has it, else PTTL). No network.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/job/verify_report.h"
#include "engine/resp/resp_reply.h"

namespace reshard::engine {

// One key as one server holds it.
struct KeyRead {
  bool exists = false;
  std::string dump;     // DUMP payload
  int64_t expiry = -1;  // PEXPIRETIME (absolute unix ms) or PTTL (ms left); -1: none
};

// From the DUMP and expiry replies (a nil DUMP: no such key). An error
// reply or a reply of another type reads as INVALID_ARGUMENT-worthy: nullopt.
std::optional<KeyRead> KeyReadFromReplies(RespValue dump, const RespValue& expiry);

// True when two DUMP payloads hold the same serialised value: the 10-byte
// trailer (RDB version and CRC64) is left out, so servers of different
// versions that serialise a value alike compare equal.
bool DumpValuesEqual(std::string_view a, std::string_view b);

// nullopt when the expiries are equal (both none, or within tolerance);
// else the detail, e.g. "ttl: source none, target 59998 ms". `absolute`:
// the values are unix ms (PEXPIRETIME), shown as the time left at `now_ms`.
std::optional<std::string> CompareExpiry(int64_t source, int64_t target, int64_t tolerance_ms,
                                         bool absolute, int64_t now_ms,
                                         std::string_view what = "ttl");

// What comparing a source read with a target read finds without looking
// into the value.
struct KeyDifference {
  VerifyProblemKind kind = VerifyProblemKind::kMissing;
  std::string detail;
};
enum class QuickVerdict {
  kEqual,         // the same value and expiry (or both absent)
  kSourceAbsent,  // the source does not hold it (and the target does)
  kDifferent,     // see the KeyDifference
  kValuesDiffer,  // payloads differ: compare the values logically
};
QuickVerdict QuickCompare(const KeyRead& source, const KeyRead& target, int64_t tolerance_ms,
                          bool absolute, int64_t now_ms, KeyDifference* difference);

// True when two reads of the source show the same key: the same presence,
// payload and expiry (within the tolerance; a PTTL moves between reads).
bool SameSourceRead(const KeyRead& a, const KeyRead& b, int64_t tolerance_ms);

}  // namespace reshard::engine
