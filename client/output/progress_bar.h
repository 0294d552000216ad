#pragma once

// A text progress bar.

#include <cstdint>
#include <string>

namespace reshard::client {

// "[#####-----]  50%" with `width` cells; `total` 0 (unknown) gives an
// indeterminate bar "[?????]    ?". `done` past `total` shows 100%.
std::string ProgressBar(uint64_t done, uint64_t total, int width);

}  // namespace reshard::client
