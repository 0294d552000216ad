#pragma once

// CRC-64/Jones as used by Redis for the RDB trailer and DUMP payloads:
// reflected polynomial 0x95AC9329AC4BC9B5, init 0, no final xor.
// Crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
//
// On x86-64 CPUs with PCLMULQDQ, buffers of kCrc64ClmulMinBytes or more are
// hashed by carry-less multiplication folding; everything else (and every
// other CPU) uses slicing-by-16 tables. Both give identical results; the
// choice is made once, at static initialization.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace reshard::engine {

// Continues `crc` over `data`: Crc64(Crc64(0, a), b) == Crc64(0, a + b).
// Thread-safe (tables and the implementation choice are fixed at static
// initialization; only ForceCrc64TableForTesting changes the latter).
uint64_t Crc64(uint64_t crc, std::string_view data);

namespace internal {

// Below this size the folding set-up costs more than it saves.
inline constexpr size_t kCrc64ClmulMinBytes = 32;

// The two implementations behind Crc64, for tests and benchmarks.
uint64_t Crc64Table(uint64_t crc, std::string_view data);
// Carry-less multiplication folding, any length. Only call it when
// Crc64ClmulAvailable().
uint64_t Crc64Clmul(uint64_t crc, std::string_view data);
// The CPU has PCLMULQDQ and SSE4.1 (always false off x86).
bool Crc64ClmulAvailable();

// Test hook: with force set, Crc64 uses the table version even where the
// folding one is available; unset restores the automatic choice. Not for use
// while other threads hash.
void ForceCrc64TableForTesting(bool force);

}  // namespace internal
}  // namespace reshard::engine
