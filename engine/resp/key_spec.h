#pragma once

// Where a command's keys are, in the model of Redis 7 key specs (COMMAND
// DOCS/INFO "key_specs"): a begin search (an index, or the argument after a
// keyword) and a find-keys rule (a range, or a count followed by the keys).
// The same model describes Redis 6's first/last/step (an index + a range), so
// a table built from a live server's COMMAND reply can use it unchanged.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace reshard::engine {

struct KeySpec {
  enum class Begin { kIndex, kKeyword };
  enum class Find { kRange, kKeynum };

  Begin begin = Begin::kIndex;
  int index = 0;        // kIndex: argument index where the search starts
  std::string keyword;  // kKeyword: upper-case; the keys start after it
  int startfrom = 0;    // kKeyword: search from this index forwards; < 0: from
                        // argc + startfrom backwards
  Find find = Find::kRange;
  int lastkey = 0;    // kRange: last key relative to the first; < 0: argc + lastkey
  int keystep = 1;    // kRange, kKeynum: distance between keys
  int limit = 0;      // kRange with lastkey -1: keys are the first 1/limit of the rest
  int keynumidx = 0;  // kKeynum: where the key count is, relative to the begin
  int firstkey = 1;   // kKeynum: first key, relative to the begin
  // The command only reads these keys (the spec's RO flag): a copy of the
  // command's effect needs only its other keys.
  bool read_only = false;

  friend bool operator==(const KeySpec&, const KeySpec&) = default;
};

// Builders for tables: an index + a range (e.g. SET = IndexRange(1, 0), DEL =
// IndexRange(1, -1)), an index + a key count (EVAL = IndexKeynum(2, 0, 1)), a
// keyword + a range (GEORADIUS STORE = KeywordRange("STORE", 6, 0)).
KeySpec IndexRange(int index, int lastkey, int keystep = 1, int limit = 0);
KeySpec IndexKeynum(int index, int keynumidx, int firstkey, int keystep = 1);
KeySpec KeywordRange(std::string keyword, int startfrom, int lastkey, int keystep = 1,
                     int limit = 0);
// `spec`, flagged read-only (RO).
KeySpec ReadOnly(KeySpec spec);

// Appends to *keys the indexes into `args` (args[0] = the command name) of the
// keys `specs` select, spec by spec, as Redis's getKeysUsingKeySpecs does, and
// to *read_only (when given) 1 for each key its spec only reads, else 0. A
// keyword that is absent selects nothing. INVALID_ARGUMENT when a spec points
// outside `args` or a key count is not a non-negative number: Redis would have
// refused the command, so it cannot be routed.
absl::Status FindKeysBySpecs(std::span<const KeySpec> specs, std::span<const std::string_view> args,
                             std::vector<size_t>* keys, std::vector<uint8_t>* read_only = nullptr);

}  // namespace reshard::engine
