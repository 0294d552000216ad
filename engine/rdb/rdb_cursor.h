#pragma once

// RdbCursor: RdbReader's position in its ByteSource. It decodes the RDB's
// primitive fields (bytes, little-endian fixed-width integers, length
// encodings, strings with their integer and LZF encodings) from the source's
// buffer, asking the source for exactly what the next field needs, and hands
// every byte it has parsed to one destination (its Mode) and to the running
// CRC64. It also keeps what the reader is reading, so its errors say where.
//
// Each field has a synchronous Try* step and an asynchronous Read*/Skip*:
//   Try*  kOk:       parsed, the cursor moved past it;
//         kNeedMore: not wholly buffered, nothing moved (the Read* form
//                    refills and retries);
//         kError:    corrupt, status() is the DATA_LOSS error.
//   Read*/Skip*      the same field, refilling as needed; returns the error
//                    (corrupt input, or the source's Fill error with the
//                    offset prepended).
// Errors read "rdb offset N: <what was being read>: <problem>"
// (engine/base/parse_error.h).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"
#include "engine/base/parse_result.h"
#include "engine/io/byte_source.h"
#include "engine/rdb/rdb_handler.h"
#include "engine/rdb/rdb_reader.h"

namespace reshard::engine {

class RdbCursor {
 public:
  // Where parsed bytes go.
  enum class Mode {
    kDiscard,  // nowhere (opcodes the handler gets decoded)
    kCollect,  // appended to collected() (a record passed through as raw bytes)
    kValue,    // to the handler's OnValueChunk, if it wanted the entry
  };

  // src and handler are not owned and must outlive the cursor; the first byte
  // src has not consumed at construction is offset 0.
  RdbCursor(ByteSource* src, RdbHandler* handler, const RdbReader::Limits& limits);
  RdbCursor(const RdbCursor&) = delete;
  RdbCursor& operator=(const RdbCursor&) = delete;

  // Offset of the next unparsed byte.
  uint64_t offset() const;

  // What is being read, for error messages: a fixed phrase ("opcode",
  // "SELECTDB"), the key of an entry of `type`, or the value of key `key`
  // (which must stay valid while it is the context).
  void SetContext(const char* what) {
    context_kind_ = ContextKind::kFixed;
    context_ = what;
  }
  void SetKeyContext(uint8_t type) {
    context_kind_ = ContextKind::kKey;
    context_type_ = type;
  }
  void SetValueContext(std::string_view key, uint8_t type) {
    context_kind_ = ContextKind::kValue;
    context_key_ = key;
    context_type_ = type;
  }

  // Sends the bytes parsed from the last Flush() on to `mode` (so a record's
  // first byte, parsed before its kind was known, can still be collected;
  // Flush() first to keep earlier bytes out). kCollect starts collected()
  // empty; kValue hands chunks to the handler only if `wanted`.
  void StartMode(Mode mode, bool wanted = false) {
    mode_ = mode;
    wanted_ = wanted;
    if (mode == Mode::kCollect) collect_.clear();
  }
  // The bytes collected since StartMode(kCollect), after Flush().
  std::string_view collected() const { return collect_; }
  // Hands the parsed bytes to the current mode.
  void Flush() {
    if (pos_ != flushed_) FlushSpan();
  }
  // Flushes and hashes/consumes everything parsed so far.
  void ConsumeAll();
  // Stops the CRC64 (before the trailer); crc() is the hash of all bytes
  // consumed until then.
  void StopCrc();
  uint64_t crc() const { return crc_; }
  // Steps back over the last `n` parsed (not yet flushed) bytes, so that an
  // error points at their start.
  void Unread(size_t n) { pos_ -= n; }
  // The bytes parsed last (n <= what was parsed since the last Flush).
  std::string_view LastParsed(size_t n) const;

  ParseResult TryByte(uint8_t* out) {
    std::string_view a = src_->Available();
    if (a.size() - pos_ < 1) {
      need_ = 1;
      return ParseResult::kNeedMore;
    }
    *out = static_cast<uint8_t>(a[pos_++]);
    return ParseResult::kOk;
  }
  // n bytes; the first min(n, 8) read as a little-endian integer into
  // *le_value unless it is null.
  ParseResult TryFixed(size_t n, uint64_t* le_value);
  ParseResult TryLen(uint64_t* len);
  ParseResult TryCount(uint64_t* n);  // TryLen within limits.max_elements
  ParseResult TrySkipString();
  // A string decoded (integers as decimal, LZF expanded); longer than
  // `limit` bytes is corrupt.
  ParseResult TryReadString(std::string* out, uint64_t limit);

  asio::awaitable<absl::Status> ReadByte(uint8_t* out);
  asio::awaitable<absl::Status> ReadFixed(size_t n, uint64_t* le_value);
  asio::awaitable<absl::Status> ReadLen(uint64_t* len);
  asio::awaitable<absl::Status> ReadCount(uint64_t* n);
  asio::awaitable<absl::Status> SkipString();
  asio::awaitable<absl::Status> ReadString(std::string* out, uint64_t limit);

  // The error of the last kError.
  const absl::Status& status() const { return status_; }
  // DATA_LOSS "rdb offset N: <context>: <problem>".
  absl::Status Corrupt(std::string_view problem) const;
  // `status` with "rdb offset N: <context>: " prepended.
  absl::Status AddContext(const absl::Status& status) const;

 private:
  // Re-runs `step` until it parses, refilling what it asks for.
  template <typename Step>
  asio::awaitable<absl::Status> Retry(Step step);
  ParseResult Fail(std::string_view problem);
  ParseResult TryStringHeader(uint64_t* payload, bool* is_int, bool* is_lzf, uint64_t* lzf_raw);
  // Flushes, consumes, lets the handler catch up (in kValue mode) and asks
  // the source for n bytes after the parsed ones.
  asio::awaitable<absl::Status> Refill(size_t n);
  asio::awaitable<absl::Status> SkipBytes(uint64_t n);
  asio::awaitable<absl::Status> ReadStringSlow(std::string* out, uint64_t limit);
  // Hands [flushed_, pos_) to the mode (Flush's work when there is some).
  void FlushSpan();
  // Hashes [0, flushed_) into the CRC (while active) and consumes it.
  void ConsumeFlushed();
  std::string Context() const;

  // Flushed bytes are consumed in batches of about this size (and before
  // every Fill and at the end), so that the CRC64 sees long spans.
  static constexpr size_t kConsumeBatch = 64 * 1024;

  ByteSource* src_;
  RdbHandler* handler_;
  RdbReader::Limits limits_;
  uint64_t start_;      // src_->consumed() at construction
  size_t pos_ = 0;      // parsed bytes at the front of Available()
  size_t flushed_ = 0;  // of which handed to the mode, not yet hashed/consumed
  size_t need_ = 0;     // after kNeedMore: bytes from pos_ the step needs (0: stream)
  absl::Status status_;
  Mode mode_ = Mode::kDiscard;
  bool wanted_ = false;
  bool crc_active_ = true;
  uint64_t crc_ = 0;
  std::string collect_;
  const char* context_ = "header";
  std::string_view context_key_;
  uint8_t context_type_ = 0;
  enum class ContextKind { kFixed, kKey, kValue } context_kind_ = ContextKind::kFixed;
};

}  // namespace reshard::engine
