#pragma once

// RDB format constants (Redis src/rdb.h, Valkey src/rdb.h). One comment per
// value says what follows it in the file. See /work/shared/REDIS-FORMATS.md.

#include <cstdint>

namespace reshard::engine::rdb {

// Highest Redis RDB version this reader understands (Redis 8.6).
inline constexpr int kMaxRedisVersion = 13;
// The only Valkey version with its own magic ("VALKEY080", Valkey 9.0).
inline constexpr int kValkeyVersion = 80;
// "REDIS0011" / "VALKEY080": the magic is always 9 bytes.
inline constexpr int kMagicSize = 9;
// First version with the 8-byte CRC64 trailer after EOF.
inline constexpr int kFirstVersionWithChecksum = 5;

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
// 22: Redis 7.4-rc HASH_METADATA_PRE_GA: len n, n x (len ttl, field, value).
//     Valkey 9 (RDB 80) HASH_2: len n, n x (field, value, 8-byte LE expiry).
inline constexpr uint8_t kTypeHashMetadataPreGa = 22;
inline constexpr uint8_t kTypeValkeyHash2 = 22;
inline constexpr uint8_t kTypeHashListpackExPreGa = 23;  // one string (listpack blob)
inline constexpr uint8_t kTypeHashMetadata = 24;    // 8-byte minExpire, len n, n x (len ttl, f, v)
inline constexpr uint8_t kTypeHashListpackEx = 25;  // 8-byte minExpire, one string
inline constexpr uint8_t kTypeStreamListpacks4 = 26;  // stream v4 (RDB 13): + IDMP state

// Opcodes (a byte in place of a type).
// 243: Redis RDB 13 KEY_META: len n classes, n x (4-byte class spec, module opcodes until 0),
//      before the type byte. Valkey RDB 80 SLOT_IMPORT: string job name, len n, n x (len, len).
inline constexpr uint8_t kOpKeyMeta = 243;
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

// Quicklist 2 node containers.
inline constexpr uint64_t kQuicklistPlain = 1;
inline constexpr uint64_t kQuicklistPacked = 2;

// Zset text doubles: a 1-byte length, or one of these with no payload.
inline constexpr uint8_t kZsetDoubleNan = 253;
inline constexpr uint8_t kZsetDoublePosInf = 254;
inline constexpr uint8_t kZsetDoubleNegInf = 255;

}  // namespace reshard::engine::rdb
