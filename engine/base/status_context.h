#pragma once

// WithContext: says where an error from below happened, keeping its code.

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {

// Returns `status` with `context` prepended verbatim to its message and the
// same code (so `context` normally ends in ": "); an OK status is returned
// unchanged. Payloads are not copied.
//   WithContext(absl::NotFoundError("x"), "snapshot from source: ")
//     == absl::NotFoundError("snapshot from source: x")
inline absl::Status WithContext(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(AsAbsl(context), status.message()));
}

}  // namespace reshard::engine
