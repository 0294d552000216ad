#pragma once

// Redis Cluster hash slots (keyHashSlot() in Redis's src/cluster.c). Pure
// functions of their bytes: no state, no errors, callable from any thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace reshard::engine {

inline constexpr int kClusterSlots = 16384;

// CRC16-CCITT/XMODEM (poly 0x1021, init 0, no reflection, no final xor), the
// checksum Redis Cluster uses. Crc16Xmodem("123456789") == 0x31C3.
uint16_t Crc16Xmodem(std::string_view data);

// The slot of `key`, in [0, 16383]. When the key has a hash tag, only the tag
// is hashed. The tag is what lies between the *first* '{' and the first '}'
// after it, if that is non-empty; otherwise (no '{', no '}' after it, or "{}")
// the whole key is hashed. So "{user}:1" hashes "user", while "{}x" and
// "a{}{b}" hash the whole key and "{{x}}" hashes "{x". Binary-safe.
uint16_t KeyHashSlot(std::string_view key);

}  // namespace reshard::engine
