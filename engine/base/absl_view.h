#pragma once

// Debian's abseil 20220623 has its own absl::string_view, distinct from
// std::string_view; absl's string functions accept only the former. AsAbsl
// converts without copying.

#include <string_view>

#include "absl/strings/string_view.h"

namespace reshard::engine {

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace reshard::engine
