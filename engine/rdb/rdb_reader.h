#pragma once

// RdbReader: a streaming pull parser for one RDB (versions 1-13 and Valkey's
// VALKEY080). It decodes only what routing needs (keys, aux fields, db
// numbers, expiry) and passes every value through as raw bytes, in chunks, so
// memory stays at one key plus the source's buffer whatever the value sizes.
//
// Run() reads from the magic through the EOF opcode and, for RDB >= 5, the
// 8-byte CRC64 trailer, and stops there: any bytes after the RDB stay
// unconsumed in the source (over replication they are the first bytes of the
// command stream). It never asks the source for more bytes than the next
// field needs.
//
// Errors (the handler sees no OnEnd):
//   DATA_LOSS            corrupt or truncated input, unknown type/opcode, a
//                        CRC64 mismatch, a module value of type 6 (pre-GA,
//                        not skippable without the module). The message reads
//                        "rdb offset N: <what was being read>: <problem>"
//                        (engine/base/parse_error.h), e.g. "rdb offset 19:
//                        value of key 'user:1' (type 4): bad length encoding".
//   FAILED_PRECONDITION  "rdb offset 0: header: unsupported RDB version N (...)" (> 13 and not 80).
//   anything the source's Fill or the handler's WaitWritable returned, the
//   former with "rdb offset N: <what was being read>: " prepended.
//
// The parts: RdbCursor (rdb_cursor.h) decodes fields and routes the bytes,
// rdb_value_layout.h steps over values, this class reads the records.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/io/byte_source.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_handler.h"

namespace reshard::engine {

class RdbCursor;

class RdbReader {
 public:
  // Input over a limit is corrupt (engine/base/parse_result.h has the naming).
  struct Limits {
    // Bytes of one key or aux field name (Redis caps keys at 512 MB).
    uint64_t max_key = 512ull << 20;
    // Bytes of one string inside a value, or of an aux field value.
    uint64_t max_string = 4ull << 30;
    // Elements (or nodes, groups, ...) one count in a value announces.
    uint64_t max_elements = 1ull << 40;
    // Bytes of one OnValueChunk when a value straddles the source's buffer
    // (clamped to 1..ByteSource::kMaxFill).
    size_t max_value_chunk = 256 * 1024;
  };

  // src and handler are not owned and must outlive the reader. The RDB
  // starts at the first byte src has not consumed when Run() begins.
  RdbReader(ByteSource* src, RdbHandler* handler);
  RdbReader(ByteSource* src, RdbHandler* handler, Limits limits);
  ~RdbReader();
  RdbReader(const RdbReader&) = delete;
  RdbReader& operator=(const RdbReader&) = delete;

  // Reads one whole RDB. Call once.
  asio::awaitable<absl::Status> Run();

  // Progress, readable between handler calls (same thread).
  uint64_t keys_read() const { return keys_read_; }
  // The header's version: 0 until it is read, or when it is bad/unsupported.
  int version() const { return magic_.version; }
  // Offset of the next unparsed byte, counted from the RDB's first byte (0
  // before Run()).
  uint64_t offset() const;

 private:
  asio::awaitable<absl::Status> ReadHeader();
  // An entry whose first byte (a prefix opcode or its type) was `first`.
  asio::awaitable<absl::Status> ReadEntry(uint8_t first);
  asio::awaitable<absl::Status> ReadAux();
  // A dataset-wide record passed through whole (OnGlobal): MODULE_AUX,
  // FUNCTION2, FUNCTION (7.0-rc), SLOT_IMPORT.
  asio::awaitable<absl::Status> ReadGlobal(uint8_t opcode);
  asio::awaitable<absl::Status> ReadChecksum();

  ByteSource* src_;
  RdbHandler* handler_;
  Limits limits_;
  std::unique_ptr<RdbCursor> cursor_;  // from Run() on
  rdb::RdbMagic magic_;
  std::string key_;
  std::string aux_value_;
  int db_ = 0;
  uint64_t keys_read_ = 0;
};

// Runs reader.Run() to completion on a private io_context (offline tools,
// tests). The handler's WaitWritable must not depend on another executor.
absl::Status RunRdbReaderSync(RdbReader& reader);

}  // namespace reshard::engine
