#pragma once

// Redis glob matching as KEYS and SCAN MATCH do it: a faithful port of
// stringmatchlen() in Redis's src/util.c (case-sensitive).
//
//   *        any run of bytes, including none
//   ?        exactly one byte
//   [abc]    one byte of the set; [^abc] one byte not in the set
//   [a-z]    a range; a reversed range [z-a] means the same as [a-z]
//   \x       the byte x literally (also inside [...])
//
// Both pattern and string are binary-safe (may hold \0 and any byte). Like
// Redis on x86-64, range bounds compare bytes as *signed* chars, so a range
// mixing bytes < 0x80 and >= 0x80 behaves as Redis does there. An unclosed
// '[' matches as if the set ended at the end of the pattern, and a trailing
// '\' is a literal backslash, both as in Redis.
//
// Like KEYS and SCAN MATCH, a lone "*" matches every key, the empty key
// included; but stringmatchlen() never lets the empty key match a longer
// pattern ("**", "*?" ...), and neither does this.
//
// No allocation; recursion depth is bounded by the number of '*' runs in the
// pattern.

#include <string_view>

namespace reshard::engine {

bool GlobMatch(std::string_view pattern, std::string_view string);

}  // namespace reshard::engine
