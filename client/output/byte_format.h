#pragma once

// Byte counts as people read them.

#include <cstdint>
#include <string>

namespace reshard::client {

// "512 B", "1.5 KiB", "3.0 GiB" (binary units up to TiB, one decimal).
std::string HumanBytes(uint64_t bytes);

}  // namespace reshard::client
