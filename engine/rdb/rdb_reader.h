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
//                        "rdb offset N (what was being read): problem".
//   FAILED_PRECONDITION  "unsupported RDB version N" (> 13 and not 80).
//   anything the source's Fill or the handler's WaitWritable returned, with
//   the offset prepended.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/io/byte_source.h"
#include "engine/rdb/rdb_handler.h"

namespace reshard::engine {

struct RdbReaderOptions {
  // A key (or aux field) longer than this is corrupt input (Redis caps keys at
  // 512 MB).
  uint64_t max_key_bytes = 512ull << 20;
  // A single string (value part) longer than this is corrupt input.
  uint64_t max_string_bytes = 4ull << 30;
  // An element count larger than this is corrupt input.
  uint64_t max_count = 1ull << 40;
  // Raw value bytes are handed to the handler in chunks of at most this size
  // when they straddle the source's buffer (<= ByteSource::kMaxFill).
  size_t value_chunk = 256 * 1024;
};

class RdbReader {
 public:
  // src and handler are not owned and must outlive Run().
  RdbReader(ByteSource* src, RdbHandler* handler, RdbReaderOptions options = {});
  RdbReader(const RdbReader&) = delete;
  RdbReader& operator=(const RdbReader&) = delete;

  // Reads one whole RDB. Call once.
  asio::awaitable<absl::Status> Run();

  // Progress, readable between handler calls (same thread).
  uint64_t keys_read() const { return keys_read_; }
  int version() const { return version_; }
  // Offset of the next unparsed byte, counted from the RDB's first byte.
  uint64_t offset() const;

 private:
  enum class Mode { kDiscard, kCollect, kValue };

  uint64_t start_ = 0;  // src_->consumed() when Run() began

  // Tri-state steps: 1 = parsed (pos_ advanced), 0 = need need_ buffered
  // bytes from pos_ (nothing advanced), -1 = corrupt (status_ set).
  int TryByte(uint8_t* out);
  int TryFixed(size_t n, uint64_t* le_value);
  int TryLen(uint64_t* len);
  int TryCount(uint64_t* n);  // TryLen + the max_count sanity limit
  int TryStringHeader(uint64_t* payload, bool* is_int, bool* is_lzf, uint64_t* lzf_raw);
  int TrySkipString();
  int TryReadString(std::string* out, uint64_t limit);

  asio::awaitable<absl::Status> Refill(size_t n);
  asio::awaitable<absl::Status> SkipBytes(uint64_t n);
  asio::awaitable<absl::Status> SkipString();
  asio::awaitable<absl::Status> ReadString(std::string* out, uint64_t limit);
  asio::awaitable<absl::Status> SkipModuleValue();
  asio::awaitable<absl::Status> SkipStream(int stream_version);
  asio::awaitable<absl::Status> SkipValue(uint8_t type);
  asio::awaitable<absl::Status> ReadHeader();
  asio::awaitable<absl::Status> ReadEntry(uint8_t first);
  asio::awaitable<absl::Status> ReadChecksum();

  // Hands [flushed_, pos_) of the buffer to the current mode; consumes (and
  // hashes) the flushed bytes once there are kConsumeBatch of them.
  void Flush();
  // Hashes [0, flushed_) into the CRC (while active) and consumes it.
  void ConsumeFlushed();
  absl::Status Corrupt(std::string_view problem);
  absl::Status WithContext(const absl::Status& status);
  std::string Doing() const;

  ByteSource* src_;
  RdbHandler* handler_;
  RdbReaderOptions options_;

  // Flushed bytes are consumed in batches of about this size (and before
  // every Fill and at the end), so that the CRC64 sees long spans.
  static constexpr size_t kConsumeBatch = 64 * 1024;

  size_t pos_ = 0;      // parsed bytes at the front of Available()
  size_t flushed_ = 0;  // of which handed to the mode, not yet hashed/consumed
  size_t need_ = 0;
  absl::Status status_;
  Mode mode_ = Mode::kDiscard;
  bool crc_active_ = true;
  bool wanted_ = false;
  uint64_t crc_ = 0;
  std::string collect_;  // raw bytes of the record being collected
  std::string key_;
  std::string aux_value_;
  const char* doing_ = "header";
  uint8_t entry_type_ = 0;
  bool in_entry_value_ = false;
  int version_ = 0;
  bool valkey_ = false;
  int db_ = 0;
  uint64_t keys_read_ = 0;
};

// Runs reader.Run() to completion on a private io_context (offline tools,
// tests). The handler's WaitWritable must not depend on another executor.
absl::Status RunRdbReaderSync(RdbReader& reader);

}  // namespace reshard::engine
