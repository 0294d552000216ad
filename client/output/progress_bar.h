#pragma once

// A text progress bar, and the key-count progress of a snapshot whose size is
// not known (a diskless source), with its rate and ETA.

#include <cstdint>
#include <optional>
#include <string>

namespace reshard::client {

// "[#####-----]  50%" with `width` cells; `total` 0 (unknown) gives an
// indeterminate bar "[?????]    ?". `done` past `total` shows 100%.
std::string ProgressBar(uint64_t done, uint64_t total, int width);

// "45s", "3m05s", "2h07m" (rounded down to the second / minute).
std::string FormatEta(double seconds);
// The time left to go from `done` to `total` at `per_second`: FormatEta, "0s"
// when done, "?" when it does not move.
std::string EtaText(uint64_t done, uint64_t total, double per_second);

// ProgressBar over keys, then "<read> / <total> keys"; with a rate also
// ", <rate> keys/s, ETA <FormatEta>" (", 0.0 keys/s, ETA ?" when it does not
// move). `total` 0: "[?????]    ? <read> keys".
std::string KeysProgress(uint64_t read, uint64_t total, std::optional<double> keys_per_second,
                         int width);

}  // namespace reshard::client
