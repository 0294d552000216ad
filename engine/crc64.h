#pragma once

// CRC-64/Jones as used by Redis for the RDB trailer and DUMP payloads:
// reflected polynomial 0x95AC9329AC4BC9B5, init 0, no final xor.
// Crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.

#include <cstdint>
#include <string_view>

namespace reshard::engine {

// Continues `crc` over `data`: Crc64(Crc64(0, a), b) == Crc64(0, a + b).
// Thread-safe (the tables are built once, at static initialization).
uint64_t Crc64(uint64_t crc, std::string_view data);

}  // namespace reshard::engine
