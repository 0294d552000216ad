#pragma once

// RDB format constants (Redis src/rdb.h, Valkey src/rdb.h). One comment per
// value says what follows it in the file. Where Redis and Valkey give one
// byte two meanings (type 22, opcode 243), both names are here and the
// functions at the end say which one a file means.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reshard::engine::rdb {

// The magic: a prefix and the version in decimal, 9 bytes in all.
inline constexpr std::string_view kRedisMagicPrefix = "REDIS";    // "REDIS0011": 4 digits
inline constexpr std::string_view kValkeyMagicPrefix = "VALKEY";  // "VALKEY080": 3 digits
inline constexpr int kMagicSize = 9;
// Highest Redis RDB version this reader understands (Redis 8.6).
inline constexpr int kMaxRedisVersion = 13;
// The only Valkey version with its own magic ("VALKEY080", Valkey 9.0).
inline constexpr int kValkeyVersion = 80;
// First version with the 8-byte CRC64 trailer after EOF.
inline constexpr int kFirstVersionWithChecksum = 5;
// First version with the RESIZEDB opcode.
inline constexpr int kFirstVersionWithResizeDb = 7;
// First Redis version with the KEY_META opcode (Valkey's 243 is SLOT_IMPORT).
inline constexpr int kFirstVersionWithKeyMeta = 13;

// Length encoding: the two top bits of the first byte.
inline constexpr uint8_t kLen6Bit = 0;      // 00xxxxxx: 6-bit length
inline constexpr uint8_t kLen14Bit = 1;     // 01xxxxxx yyyyyyyy: 14-bit big-endian
inline constexpr uint8_t kLenEncoded = 3;   // 11xxxxxx: special string encoding below
inline constexpr uint8_t kLen32Bit = 0x80;  // then 4 bytes big-endian
inline constexpr uint8_t kLen64Bit = 0x81;  // then 8 bytes big-endian (RDB >= 8)

// Special string encodings (low 6 bits when the top bits are 11).
inline constexpr uint8_t kEncInt8 = 0;   // 1 byte, signed
inline constexpr uint8_t kEncInt16 = 1;  // 2 bytes little-endian, signed
inline constexpr uint8_t kEncInt32 = 2;  // 4 bytes little-endian, signed
inline constexpr uint8_t kEncLzf = 3;    // len compressed, len original, compressed bytes

// Value types (the byte before the key).
inline constexpr uint8_t kTypeString = 0;             // string
inline constexpr uint8_t kTypeList = 1;               // len n, n strings
inline constexpr uint8_t kTypeSet = 2;                // len n, n strings
inline constexpr uint8_t kTypeZset = 3;               // len n, n x (string, text double)
inline constexpr uint8_t kTypeHash = 4;               // len n, n x (string, string)
inline constexpr uint8_t kTypeZset2 = 5;              // len n, n x (string, 8-byte LE double)
inline constexpr uint8_t kTypeModulePreGa = 6;        // 4.0-rc module value: not skippable
inline constexpr uint8_t kTypeModule2 = 7;            // len module id, module opcodes until 0
inline constexpr uint8_t kTypeHashZipmap = 9;         // one string (zipmap blob)
inline constexpr uint8_t kTypeListZiplist = 10;       // one string (ziplist blob)
inline constexpr uint8_t kTypeSetIntset = 11;         // one string (intset blob)
inline constexpr uint8_t kTypeZsetZiplist = 12;       // one string (ziplist blob)
inline constexpr uint8_t kTypeHashZiplist = 13;       // one string (ziplist blob)
inline constexpr uint8_t kTypeListQuicklist = 14;     // len nodes, nodes x ziplist string
inline constexpr uint8_t kTypeStreamListpacks = 15;   // stream v1
inline constexpr uint8_t kTypeHashListpack = 16;      // one string (listpack blob)
inline constexpr uint8_t kTypeZsetListpack = 17;      // one string (listpack blob)
inline constexpr uint8_t kTypeListQuicklist2 = 18;    // len nodes, nodes x (len container, string)
inline constexpr uint8_t kTypeStreamListpacks2 = 19;  // stream v2 (RDB 10)
inline constexpr uint8_t kTypeSetListpack = 20;       // one string (listpack blob)
inline constexpr uint8_t kTypeStreamListpacks3 = 21;  // stream v3 (RDB 11)
// 22 has two meanings (IsValkeyHash2 says which):
inline constexpr uint8_t kTypeHashMetadataPreGa = 22;  // Redis 7.4-rc: len n, n x (len ttl, f, v)
inline constexpr uint8_t kTypeValkeyHash2 =
    22;  // Valkey 9 (RDB 80): len n, n x (f, v, 8-byte LE ms)
inline constexpr uint8_t kTypeHashListpackExPreGa = 23;  // one string (listpack blob)
inline constexpr uint8_t kTypeHashMetadata = 24;    // 8-byte minExpire, len n, n x (len ttl, f, v)
inline constexpr uint8_t kTypeHashListpackEx = 25;  // 8-byte minExpire, one string
inline constexpr uint8_t kTypeStreamListpacks4 = 26;  // stream v4 (RDB 13): + IDMP state

// Opcodes (a byte in place of a type).
// 243 has two meanings (IsKeyMeta / IsSlotImport say which):
// Redis RDB 13 KEY_META, before the type byte: len n classes, n x (4-byte class spec, module
// opcodes until 0).
inline constexpr uint8_t kOpKeyMeta = 243;
// Valkey RDB 80 SLOT_IMPORT: string job name, len n, n x (len first slot, len last slot).
inline constexpr uint8_t kOpSlotImport = 243;
inline constexpr uint8_t kOpSlotInfo = 244;       // len slot, len keys, len expires (hint)
inline constexpr uint8_t kOpFunction2 = 245;      // one string: the library code
inline constexpr uint8_t kOpFunctionPreGa = 246;  // name, engine, len has_desc, [desc], code
inline constexpr uint8_t kOpModuleAux = 247;      // len module id, len 2, len when, module opcodes
inline constexpr uint8_t kOpIdle = 248;           // len idle seconds (before the type byte)
inline constexpr uint8_t kOpFreq = 249;           // 1 byte LFU counter (before the type byte)
inline constexpr uint8_t kOpAux = 250;            // string key, string value
inline constexpr uint8_t kOpResizeDb = 251;       // len db size, len expires size (hint)
inline constexpr uint8_t kOpExpireTimeMs = 252;   // 8-byte LE ms (before the type byte)
inline constexpr uint8_t kOpExpireTime = 253;     // 4-byte LE seconds (before the type byte)
inline constexpr uint8_t kOpSelectDb = 254;       // len db
inline constexpr uint8_t kOpEof = 255;            // then 8-byte LE CRC64 (RDB >= 5)

// Module value opcodes (MODULE_2 values, MODULE_AUX bodies, KEY_META values).
inline constexpr uint64_t kModuleOpEof = 0;     // end of the value
inline constexpr uint64_t kModuleOpSint = 1;    // len
inline constexpr uint64_t kModuleOpUint = 2;    // len
inline constexpr uint64_t kModuleOpFloat = 3;   // 4 bytes
inline constexpr uint64_t kModuleOpDouble = 4;  // 8 bytes
inline constexpr uint64_t kModuleOpString = 5;  // string

// Quicklist 2 node containers (the len before each node's string).
inline constexpr uint64_t kQuicklistPlain = 1;   // the string is one element
inline constexpr uint64_t kQuicklistPacked = 2;  // the string is a listpack of elements

// A KEY_META record has at most this many classes (Redis's limit).
inline constexpr uint64_t kMaxKeyMetaClasses = 64;

// Zset text doubles: a 1-byte length, or one of these with no payload.
inline constexpr uint8_t kZsetDoubleNan = 253;
inline constexpr uint8_t kZsetDoublePosInf = 254;
inline constexpr uint8_t kZsetDoubleNegInf = 255;

// Whether `t` is a value type byte of any version. 8 was never assigned.
constexpr bool IsKnownType(uint8_t t) {
  return t <= kTypeModule2 || (t >= kTypeHashZipmap && t <= kTypeStreamListpacks4);
}

// Whether the value of type `t` is one string (a plain string or an encoded
// blob: zipmap, ziplist, intset, listpack).
bool IsSingleStringType(uint8_t t);

// Whose dialect a file is in; it decides what types and opcodes 22 and 243 mean.
enum class RdbFlavour { kRedis, kValkey };

// What the 9-byte magic says.
struct RdbMagic {
  RdbFlavour flavour = RdbFlavour::kRedis;
  int version = 0;  // 1..kMaxRedisVersion, or kValkeyVersion
  friend bool operator==(const RdbMagic&, const RdbMagic&) = default;
};

// Parses the first 9 bytes of an RDB ("REDIS0011", "VALKEY080"); bytes after
// the 9th are ignored. Errors:
//   DATA_LOSS            "not an RDB: bad magic '<escaped bytes>'" (unknown
//                        prefix, non-digits, or fewer than 9 bytes);
//   FAILED_PRECONDITION  "rdb offset 0: header: unsupported RDB version N (...)": a Redis version
//   outside
//                        1..kMaxRedisVersion, or a Valkey one other than 80.
absl::StatusOr<RdbMagic> ParseRdbMagic(std::string_view first9);

constexpr bool IsValkeyHash2(uint8_t type, RdbFlavour f) {
  return type == kTypeValkeyHash2 && f == RdbFlavour::kValkey;
}
constexpr bool IsSlotImport(uint8_t op, RdbFlavour f) {
  return op == kOpSlotImport && f == RdbFlavour::kValkey;
}
constexpr bool IsKeyMeta(uint8_t op, const RdbMagic& m) {
  return op == kOpKeyMeta && m.flavour == RdbFlavour::kRedis &&
         m.version >= kFirstVersionWithKeyMeta;
}

// Whether `t` is a value type in a file of `m`'s dialect and version: Valkey's
// VALKEY080 has the open-source types and its own 22 (hash with field TTLs);
// Redis adds 16-19 in RDB 10, 20-21 in 11, 22-25 in 12, 26 in 13. A type
// byte outside that is corrupt or from a newer format, and is refused rather
// than read by another version's layout.
constexpr bool IsKnownTypeIn(uint8_t t, const RdbMagic& m) {
  if (!IsKnownType(t)) return false;
  if (m.flavour == RdbFlavour::kValkey) return t <= kTypeValkeyHash2;
  int newest = m.version >= 13   ? kTypeStreamListpacks4
               : m.version >= 12 ? kTypeHashListpackEx
               : m.version >= 11 ? kTypeStreamListpacks3
               : m.version >= 10 ? kTypeStreamListpacks2
                                 : kTypeStreamListpacks;
  return t <= newest;
}

// The type's name for people ("hash-listpack", "stream-v2"; Valkey's 22 is
// "hash2"); "type-N" for a byte that is no type.
std::string TypeName(uint8_t type, RdbFlavour flavour);

}  // namespace reshard::engine::rdb
