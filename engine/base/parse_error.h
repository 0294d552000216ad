#pragma once

// The engine's one parse error format (STYLE.md #6 and #17):
//   "<what> offset <N>: <detail>"
// e.g. "resp offset 13: argument 2 of 2: expected '$', got '*'",
//      "reply offset 1: bulk string length: not a number 'x1'",
//      "rdb offset 19: value of key 'user:1' (type 4): bad length encoding 0x83".
// <what> names the format ("resp", "reply", "rdb"); N is the byte offset of
// the problem in that parser's input; <detail> says what was being read, then
// what is wrong with it, joined by ": ".

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {

inline std::string ParseErrorMessage(std::string_view what, uint64_t offset,
                                     std::string_view detail) {
  return absl::StrCat(AsAbsl(what), " offset ", offset, ": ", AsAbsl(detail));
}

}  // namespace reshard::engine
