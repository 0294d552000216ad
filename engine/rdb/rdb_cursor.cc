#include "engine/rdb/rdb_cursor.h"

#include <lzf.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/absl_view.h"
#include "engine/base/parse_error.h"
#include "engine/base/status_context.h"
#include "engine/base/status_macros.h"
#include "engine/rdb/crc64.h"
#include "engine/rdb/rdb_format.h"

namespace reshard::engine {
namespace {

// Keys longer than this are cut in error messages.
constexpr size_t kMaxKeyShown = 64;

// Parses one length encoding at p[0, left): kOk (*len, *used set), kNeedMore
// (need *used bytes) or kError (p[0] is no length encoding).
ParseResult ParseLen(const uint8_t* p, size_t left, uint64_t* len, size_t* used) {
  if (left < 1) {
    *used = 1;
    return ParseResult::kNeedMore;
  }
  uint8_t b = p[0];
  switch (b >> 6) {
    case rdb::kLen6Bit:
      *len = b & 0x3f;
      *used = 1;
      return ParseResult::kOk;
    case rdb::kLen14Bit:
      *used = 2;
      if (left < 2) return ParseResult::kNeedMore;
      *len = (static_cast<uint64_t>(b & 0x3f) << 8) | p[1];
      return ParseResult::kOk;
    case 2: {
      size_t width;
      if (b == rdb::kLen32Bit) {
        width = 4;
      } else if (b == rdb::kLen64Bit) {
        width = 8;
      } else {
        return ParseResult::kError;
      }
      *used = 1 + width;
      if (left < 1 + width) return ParseResult::kNeedMore;
      uint64_t v = 0;
      for (size_t i = 0; i < width; ++i) v = (v << 8) | p[1 + i];
      *len = v;
      return ParseResult::kOk;
    }
    default:
      return ParseResult::kError;  // 11xxxxxx is a string encoding, not a length
  }
}

// The integer of an integer-encoded string's 1/2/4-byte little-endian payload.
int64_t IntegerOfPayload(const char* p, uint64_t size) {
  if (size == 1) return static_cast<int8_t>(p[0]);
  if (size == 2) {
    int16_t x;
    std::memcpy(&x, p, 2);
    return x;
  }
  int32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

}  // namespace

RdbCursor::RdbCursor(ByteSource* src, RdbHandler* handler, const RdbReader::Limits& limits)
    : src_(src), handler_(handler), limits_(limits), start_(src->consumed()) {
  limits_.max_value_chunk = std::clamp<size_t>(limits_.max_value_chunk, 1, ByteSource::kMaxFill);
}

// Relative to the RDB's first byte: over a replication link the source has
// already consumed the handshake replies.
uint64_t RdbCursor::offset() const { return src_->consumed() + pos_ - start_; }

// Formatted only when an error happens: entries are far more common.
std::string RdbCursor::Context() const {
  switch (context_kind_) {
    case ContextKind::kFixed:
      return context_;
    case ContextKind::kKey:
      return absl::StrFormat("key (type %d)", context_type_);
    case ContextKind::kValue: {
      std::string key = absl::CHexEscape(AsAbsl(context_key_.substr(0, kMaxKeyShown)));
      if (context_key_.size() > kMaxKeyShown) key += "...";
      return absl::StrFormat("value of key '%s' (type %d)", key, context_type_);
    }
  }
  return context_;
}

absl::Status RdbCursor::Corrupt(std::string_view problem) const {
  return absl::DataLossError(
      ParseErrorMessage("rdb", offset(), absl::StrCat(Context(), ": ", AsAbsl(problem))));
}

absl::Status RdbCursor::AddContext(const absl::Status& status) const {
  return WithContext(status, ParseErrorMessage("rdb", offset(), absl::StrCat(Context(), ": ")));
}

ParseResult RdbCursor::Fail(std::string_view problem) {
  status_ = Corrupt(problem);
  return ParseResult::kError;
}

std::string_view RdbCursor::LastParsed(size_t n) const {
  return src_->Available().substr(pos_ - n, n);
}

void RdbCursor::FlushSpan() {
  std::string_view span = src_->Available().substr(flushed_, pos_ - flushed_);
  switch (mode_) {
    case Mode::kCollect:
      collect_.append(span);
      break;
    case Mode::kValue:
      if (wanted_) handler_->OnValueChunk(span);
      break;
    case Mode::kDiscard:
      break;
  }
  flushed_ = pos_;
  // Hashing and consuming one field at a time cost more than the hashing
  // itself for small keys: batch them (the source keeps the bytes until its
  // next Fill, which only comes after ConsumeFlushed).
  if (flushed_ >= kConsumeBatch) ConsumeFlushed();
}

void RdbCursor::ConsumeAll() {
  Flush();
  ConsumeFlushed();
}

void RdbCursor::StopCrc() {
  ConsumeAll();
  crc_active_ = false;
}

void RdbCursor::ConsumeFlushed() {
  if (flushed_ == 0) return;
  if (crc_active_) crc_ = Crc64(crc_, src_->Available().substr(0, flushed_));
  src_->Consume(flushed_);
  pos_ -= flushed_;
  flushed_ = 0;
}

asio::awaitable<absl::Status> RdbCursor::Refill(size_t n) {
  ConsumeAll();
  // Inside a value the reader would otherwise buffer the next chunk for a
  // target that cannot take it.
  if (mode_ == Mode::kValue && handler_->Backlogged()) {
    CO_RETURN_IF_ERROR(co_await handler_->WaitWritable());
  }
  absl::Status s = co_await src_->Fill(n);
  if (!s.ok()) co_return AddContext(s);
  co_return absl::OkStatus();
}

template <typename Step>
asio::awaitable<absl::Status> RdbCursor::Retry(Step step) {
  for (;;) {
    ParseResult r = step();
    if (r == ParseResult::kOk) co_return absl::OkStatus();
    if (r == ParseResult::kError) co_return status_;
    CO_RETURN_IF_ERROR(co_await Refill(need_));
  }
}

ParseResult RdbCursor::TryFixed(size_t n, uint64_t* le_value) {
  std::string_view a = src_->Available();
  if (a.size() - pos_ < n) {
    need_ = n;
    return ParseResult::kNeedMore;
  }
  if (le_value != nullptr) {
    uint64_t v = 0;
    for (size_t i = std::min<size_t>(n, 8); i > 0; --i) {
      v = (v << 8) | static_cast<uint8_t>(a[pos_ + i - 1]);
    }
    *le_value = v;
  }
  pos_ += n;
  return ParseResult::kOk;
}

ParseResult RdbCursor::TryLen(uint64_t* len) {
  std::string_view a = src_->Available();
  const auto* p = reinterpret_cast<const uint8_t*>(a.data()) + pos_;
  size_t used = 0;
  ParseResult r = ParseLen(p, a.size() - pos_, len, &used);
  if (r == ParseResult::kError) return Fail(absl::StrFormat("bad length encoding 0x%02x", p[0]));
  if (r == ParseResult::kNeedMore) {
    need_ = used;
    return r;
  }
  pos_ += used;
  return ParseResult::kOk;
}

ParseResult RdbCursor::TryCount(uint64_t* n) {
  size_t start = pos_;
  ParseResult r = TryLen(n);
  if (r == ParseResult::kOk && *n > limits_.max_elements) {
    pos_ = start;
    return Fail(
        absl::StrFormat("element count %d exceeds the limit of %d", *n, limits_.max_elements));
  }
  return r;
}

// Parses a string's header. On success pos_ is at the payload; *payload is its
// size; for integer encodings *is_int is set and the payload (1/2/4 bytes) is
// the integer; for LZF *lzf_raw is the uncompressed size (else 0).
ParseResult RdbCursor::TryStringHeader(uint64_t* payload, bool* is_int, bool* is_lzf,
                                       uint64_t* lzf_raw) {
  std::string_view a = src_->Available();
  size_t left = a.size() - pos_;
  const auto* p = reinterpret_cast<const uint8_t*>(a.data()) + pos_;
  if (left < 1) {
    need_ = 1;
    return ParseResult::kNeedMore;
  }
  *is_int = false;
  *is_lzf = false;
  *lzf_raw = 0;
  if ((p[0] >> 6) != rdb::kLenEncoded) {
    size_t used = 0;
    ParseResult r = ParseLen(p, left, payload, &used);
    if (r == ParseResult::kError) return Fail(absl::StrFormat("bad length encoding 0x%02x", p[0]));
    if (r == ParseResult::kNeedMore) {
      need_ = used;
      return r;
    }
    if (*payload > limits_.max_string) {
      return Fail(absl::StrFormat("string length %d exceeds the limit of %d", *payload,
                                  limits_.max_string));
    }
    pos_ += used;
    return ParseResult::kOk;
  }
  switch (p[0] & 0x3f) {
    case rdb::kEncInt8:
    case rdb::kEncInt16:
    case rdb::kEncInt32:
      *payload = size_t{1} << (p[0] & 0x3f);  // 1, 2 or 4 bytes
      *is_int = true;
      pos_ += 1;
      return ParseResult::kOk;
    case rdb::kEncLzf: {
      uint64_t clen = 0, ulen = 0;
      size_t used1 = 0, used2 = 0;
      ParseResult r = ParseLen(p + 1, left - 1, &clen, &used1);
      if (r == ParseResult::kNeedMore) {
        need_ = 1 + used1;
        return r;
      }
      if (r == ParseResult::kOk) r = ParseLen(p + 1 + used1, left - 1 - used1, &ulen, &used2);
      if (r == ParseResult::kNeedMore) {
        need_ = 1 + used1 + used2;
        return r;
      }
      if (r == ParseResult::kError) return Fail("bad length encoding in LZF string header");
      if (clen > limits_.max_string || ulen > limits_.max_string) {
        return Fail(absl::StrFormat("LZF string of %d/%d bytes exceeds the limit of %d", clen, ulen,
                                    limits_.max_string));
      }
      *payload = clen;
      *is_lzf = true;
      *lzf_raw = ulen;
      pos_ += 1 + used1 + used2;
      return ParseResult::kOk;
    }
    default:
      return Fail(absl::StrFormat("unknown string encoding 0x%02x", p[0]));
  }
}

ParseResult RdbCursor::TrySkipString() {
  size_t start = pos_;
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  ParseResult r = TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw);
  if (r != ParseResult::kOk) return r;
  if (src_->Available().size() - pos_ < payload) {
    pos_ = start;
    need_ = 0;  // SkipString streams it
    return ParseResult::kNeedMore;
  }
  pos_ += payload;
  return ParseResult::kOk;
}

ParseResult RdbCursor::TryReadString(std::string* out, uint64_t limit) {
  size_t start = pos_;
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  ParseResult r = TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw);
  if (r != ParseResult::kOk) return r;
  std::string_view a = src_->Available();
  if (a.size() - pos_ < payload) {
    pos_ = start;
    need_ = 0;  // ReadString streams it
    return ParseResult::kNeedMore;
  }
  const char* p = a.data() + pos_;
  if (is_int) {
    *out = absl::StrCat(IntegerOfPayload(p, payload));
  } else if (is_lzf) {
    if (lzf_raw > limit) {
      return Fail(absl::StrFormat("string of %d bytes exceeds the limit of %d", lzf_raw, limit));
    }
    out->resize(lzf_raw);
    unsigned got = lzf_decompress(p, static_cast<unsigned>(payload), out->data(),
                                  static_cast<unsigned>(lzf_raw));
    if (got != lzf_raw) {
      return Fail(absl::StrFormat("LZF string does not decompress to %d bytes", lzf_raw));
    }
  } else {
    if (payload > limit) {
      return Fail(absl::StrFormat("string of %d bytes exceeds the limit of %d", payload, limit));
    }
    out->assign(p, payload);
  }
  pos_ += payload;
  return ParseResult::kOk;
}

asio::awaitable<absl::Status> RdbCursor::ReadByte(uint8_t* out) {
  return Retry([this, out] { return TryByte(out); });
}

asio::awaitable<absl::Status> RdbCursor::ReadFixed(size_t n, uint64_t* le_value) {
  return Retry([this, n, le_value] { return TryFixed(n, le_value); });
}

asio::awaitable<absl::Status> RdbCursor::ReadLen(uint64_t* len) {
  return Retry([this, len] { return TryLen(len); });
}

asio::awaitable<absl::Status> RdbCursor::ReadCount(uint64_t* n) {
  return Retry([this, n] { return TryCount(n); });
}

asio::awaitable<absl::Status> RdbCursor::SkipBytes(uint64_t n) {
  for (;;) {
    uint64_t take = std::min<uint64_t>(n, src_->Available().size() - pos_);
    pos_ += take;
    n -= take;
    if (n == 0) co_return absl::OkStatus();
    CO_RETURN_IF_ERROR(co_await Refill(std::min<uint64_t>(n, limits_.max_value_chunk)));
  }
}

asio::awaitable<absl::Status> RdbCursor::SkipString() {
  ParseResult r = TrySkipString();
  if (r == ParseResult::kOk) co_return absl::OkStatus();
  if (r == ParseResult::kError) co_return status_;
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  CO_RETURN_IF_ERROR(
      co_await Retry([&] { return TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw); }));
  co_return co_await SkipBytes(payload);
}

asio::awaitable<absl::Status> RdbCursor::ReadString(std::string* out, uint64_t limit) {
  ParseResult r = TryReadString(out, limit);
  if (r == ParseResult::kOk) co_return absl::OkStatus();
  if (r == ParseResult::kError) co_return status_;
  co_return co_await ReadStringSlow(out, limit);
}

// The string straddles the buffer or is larger than one Fill.
asio::awaitable<absl::Status> RdbCursor::ReadStringSlow(std::string* out, uint64_t limit) {
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  CO_RETURN_IF_ERROR(
      co_await Retry([&] { return TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw); }));
  if (is_int) {
    CO_RETURN_IF_ERROR(co_await ReadFixed(payload, nullptr));
    *out = absl::StrCat(IntegerOfPayload(LastParsed(payload).data(), payload));
    co_return absl::OkStatus();
  }
  uint64_t final_size = is_lzf ? lzf_raw : payload;
  if (final_size > limit) {
    co_return Corrupt(
        absl::StrFormat("string of %d bytes exceeds the limit of %d", final_size, limit));
  }
  std::string compressed;
  std::string* dst = is_lzf ? &compressed : out;
  dst->clear();
  dst->reserve(std::min<uint64_t>(payload, ByteSource::kMaxFill));  // grows as bytes arrive
  uint64_t left = payload;
  for (;;) {
    std::string_view a = src_->Available();
    uint64_t take = std::min<uint64_t>(left, a.size() - pos_);
    dst->append(a.data() + pos_, take);
    pos_ += take;
    left -= take;
    if (left == 0) break;
    CO_RETURN_IF_ERROR(co_await Refill(std::min<uint64_t>(left, ByteSource::kMaxFill)));
  }
  if (is_lzf) {
    out->resize(lzf_raw);
    unsigned got = lzf_decompress(compressed.data(), static_cast<unsigned>(compressed.size()),
                                  out->data(), static_cast<unsigned>(lzf_raw));
    if (got != lzf_raw) {
      co_return Corrupt(absl::StrFormat("LZF string does not decompress to %d bytes", lzf_raw));
    }
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
