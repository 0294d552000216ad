#include "engine/rdb/rdb_reader.h"

#include <lzf.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "asio/co_spawn.hpp"
#include "asio/io_context.hpp"
#include "engine/rdb/crc64.h"
#include "engine/rdb/rdb_format.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

// Parses one length encoding at p[0, left). Returns 1 (*len, *used set),
// 0 (need *used bytes) or -1 (*bad is the offending first byte).
int ParseLen(const uint8_t* p, size_t left, uint64_t* len, size_t* used) {
  if (left < 1) {
    *used = 1;
    return 0;
  }
  uint8_t b = p[0];
  switch (b >> 6) {
    case rdb::kLen6Bit:
      *len = b & 0x3f;
      *used = 1;
      return 1;
    case rdb::kLen14Bit:
      *used = 2;
      if (left < 2) return 0;
      *len = (static_cast<uint64_t>(b & 0x3f) << 8) | p[1];
      return 1;
    case 2: {
      size_t width;
      if (b == rdb::kLen32Bit) {
        width = 4;
      } else if (b == rdb::kLen64Bit) {
        width = 8;
      } else {
        return -1;
      }
      *used = 1 + width;
      if (left < 1 + width) return 0;
      uint64_t v = 0;
      for (size_t i = 0; i < width; ++i) v = (v << 8) | p[1 + i];
      *len = v;
      return 1;
    }
    default:
      return -1;  // 11xxxxxx is a string encoding, not a length
  }
}

bool IsKnownType(uint8_t t) { return t <= 7 || (t >= 9 && t <= 26); }

bool IsSingleStringType(uint8_t t) {
  switch (t) {
    case rdb::kTypeString:
    case rdb::kTypeHashZipmap:
    case rdb::kTypeListZiplist:
    case rdb::kTypeSetIntset:
    case rdb::kTypeZsetZiplist:
    case rdb::kTypeHashZiplist:
    case rdb::kTypeHashListpack:
    case rdb::kTypeZsetListpack:
    case rdb::kTypeSetListpack:
    case rdb::kTypeHashListpackExPreGa:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Runs one tri-state step until it parses, refilling exactly what it needs.
#define RDB_STEP(expr)                            \
  for (;;) {                                      \
    int _rdb_r = (expr);                          \
    if (_rdb_r > 0) break;                        \
    if (_rdb_r < 0) co_return status_;            \
    absl::Status _rdb_s = co_await Refill(need_); \
    if (!_rdb_s.ok()) co_return _rdb_s;           \
  }

// Skips one string: synchronously when it is wholly buffered.
#define RDB_SKIP_STRING()                                       \
  do {                                                          \
    int _rdb_r = TrySkipString();                               \
    if (_rdb_r < 0) co_return status_;                          \
    if (_rdb_r == 0) CO_RETURN_IF_ERROR(co_await SkipString()); \
  } while (0)

RdbReader::RdbReader(ByteSource* src, RdbHandler* handler, RdbReaderOptions options)
    : src_(src), handler_(handler), options_(options) {
  options_.value_chunk = std::clamp<size_t>(options_.value_chunk, 1, ByteSource::kMaxFill);
}

// Relative to the RDB's first byte: over a replication link the source has
// already consumed the handshake replies.
uint64_t RdbReader::offset() const { return src_->consumed() + pos_ - start_; }

std::string RdbReader::Doing() const {
  if (in_entry_value_ || doing_ == std::string_view("key")) {
    std::string key =
        absl::CHexEscape(absl::string_view(key_.data(), std::min<size_t>(key_.size(), 64)));
    if (key_.size() > 64) key += "...";
    if (!in_entry_value_) return absl::StrFormat("key of type %d", entry_type_);
    return absl::StrFormat("value of key '%s', type %d", key, entry_type_);
  }
  return doing_;
}

absl::Status RdbReader::Corrupt(std::string_view problem) {
  return absl::DataLossError(absl::StrFormat("rdb offset %d (%s): %s", offset(), Doing(),
                                             absl::string_view(problem.data(), problem.size())));
}

absl::Status RdbReader::WithContext(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrFormat("rdb offset %d (%s): %s", offset(), Doing(),
                                                     status.message()));
}

void RdbReader::Flush() {
  if (pos_ == flushed_) return;
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

void RdbReader::ConsumeFlushed() {
  if (flushed_ == 0) return;
  if (crc_active_) crc_ = Crc64(crc_, src_->Available().substr(0, flushed_));
  src_->Consume(flushed_);
  pos_ -= flushed_;
  flushed_ = 0;
}

asio::awaitable<absl::Status> RdbReader::Refill(size_t n) {
  Flush();
  ConsumeFlushed();
  if (mode_ == Mode::kValue && handler_->ShouldPause()) {
    CO_RETURN_IF_ERROR(co_await handler_->WaitWritable());
  }
  absl::Status s = co_await src_->Fill(n);
  if (!s.ok()) co_return WithContext(s);
  co_return absl::OkStatus();
}

int RdbReader::TryByte(uint8_t* out) {
  std::string_view a = src_->Available();
  if (a.size() - pos_ < 1) {
    need_ = 1;
    return 0;
  }
  *out = static_cast<uint8_t>(a[pos_++]);
  return 1;
}

int RdbReader::TryFixed(size_t n, uint64_t* le_value) {
  std::string_view a = src_->Available();
  if (a.size() - pos_ < n) {
    need_ = n;
    return 0;
  }
  if (le_value != nullptr) {
    uint64_t v = 0;
    for (size_t i = std::min<size_t>(n, 8); i > 0; --i) {
      v = (v << 8) | static_cast<uint8_t>(a[pos_ + i - 1]);
    }
    *le_value = v;
  }
  pos_ += n;
  return 1;
}

int RdbReader::TryLen(uint64_t* len) {
  std::string_view a = src_->Available();
  const auto* p = reinterpret_cast<const uint8_t*>(a.data()) + pos_;
  size_t used = 0;
  int r = ParseLen(p, a.size() - pos_, len, &used);
  if (r < 0) {
    status_ = Corrupt(absl::StrFormat("bad length encoding 0x%02x", p[0]));
    return -1;
  }
  if (r == 0) {
    need_ = used;
    return 0;
  }
  pos_ += used;
  return 1;
}

int RdbReader::TryCount(uint64_t* n) {
  size_t start = pos_;
  int r = TryLen(n);
  if (r > 0 && *n > options_.max_count) {
    pos_ = start;
    status_ = Corrupt(
        absl::StrFormat("element count %d exceeds the limit of %d", *n, options_.max_count));
    return -1;
  }
  return r;
}

// Parses a string's header. On success pos_ is at the payload; *payload is its
// size; for integer encodings *is_int is set and the payload (1/2/4 bytes) is
// the integer; for LZF *lzf_raw is the uncompressed size (else 0).
int RdbReader::TryStringHeader(uint64_t* payload, bool* is_int, bool* is_lzf, uint64_t* lzf_raw) {
  std::string_view a = src_->Available();
  size_t left = a.size() - pos_;
  const auto* p = reinterpret_cast<const uint8_t*>(a.data()) + pos_;
  if (left < 1) {
    need_ = 1;
    return 0;
  }
  *is_int = false;
  *is_lzf = false;
  *lzf_raw = 0;
  if ((p[0] >> 6) != rdb::kLenEncoded) {
    size_t used = 0;
    int r = ParseLen(p, left, payload, &used);
    if (r < 0) {
      status_ = Corrupt(absl::StrFormat("bad length encoding 0x%02x", p[0]));
      return -1;
    }
    if (r == 0) {
      need_ = used;
      return 0;
    }
    if (*payload > options_.max_string_bytes) {
      status_ = Corrupt(absl::StrFormat("string length %d exceeds the limit of %d", *payload,
                                        options_.max_string_bytes));
      return -1;
    }
    pos_ += used;
    return 1;
  }
  switch (p[0] & 0x3f) {
    case rdb::kEncInt8:
      *payload = 1;
      *is_int = true;
      pos_ += 1;
      return 1;
    case rdb::kEncInt16:
      *payload = 2;
      *is_int = true;
      pos_ += 1;
      return 1;
    case rdb::kEncInt32:
      *payload = 4;
      *is_int = true;
      pos_ += 1;
      return 1;
    case rdb::kEncLzf: {
      uint64_t clen = 0, ulen = 0;
      size_t used1 = 0, used2 = 0;
      int r = ParseLen(p + 1, left - 1, &clen, &used1);
      if (r == 0) {
        need_ = 1 + used1;
        return 0;
      }
      if (r > 0) r = ParseLen(p + 1 + used1, left - 1 - used1, &ulen, &used2);
      if (r == 0) {
        need_ = 1 + used1 + used2;
        return 0;
      }
      if (r < 0) {
        status_ = Corrupt("bad length encoding in LZF string header");
        return -1;
      }
      if (clen > options_.max_string_bytes || ulen > options_.max_string_bytes) {
        status_ = Corrupt(absl::StrFormat("LZF string of %d/%d bytes exceeds the limit of %d", clen,
                                          ulen, options_.max_string_bytes));
        return -1;
      }
      *payload = clen;
      *is_lzf = true;
      *lzf_raw = ulen;
      pos_ += 1 + used1 + used2;
      return 1;
    }
    default:
      status_ = Corrupt(absl::StrFormat("unknown string encoding 0x%02x", p[0]));
      return -1;
  }
}

int RdbReader::TrySkipString() {
  size_t start = pos_;
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  int r = TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw);
  if (r <= 0) return r;
  if (src_->Available().size() - pos_ < payload) {
    pos_ = start;
    need_ = 0;  // the caller streams it
    return 0;
  }
  pos_ += payload;
  return 1;
}

int RdbReader::TryReadString(std::string* out, uint64_t limit) {
  size_t start = pos_;
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  int r = TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw);
  if (r <= 0) return r;
  std::string_view a = src_->Available();
  if (a.size() - pos_ < payload) {
    pos_ = start;
    need_ = 0;
    return 0;
  }
  const char* p = a.data() + pos_;
  if (is_int) {
    int64_t v;
    if (payload == 1) {
      v = static_cast<int8_t>(p[0]);
    } else if (payload == 2) {
      int16_t x;
      std::memcpy(&x, p, 2);
      v = x;
    } else {
      int32_t x;
      std::memcpy(&x, p, 4);
      v = x;
    }
    *out = absl::StrCat(v);
  } else if (is_lzf) {
    if (lzf_raw > limit) {
      status_ =
          Corrupt(absl::StrFormat("string of %d bytes exceeds the limit of %d", lzf_raw, limit));
      return -1;
    }
    out->resize(lzf_raw);
    unsigned got = lzf_decompress(p, static_cast<unsigned>(payload), out->data(),
                                  static_cast<unsigned>(lzf_raw));
    if (got != lzf_raw) {
      status_ = Corrupt(absl::StrFormat("LZF string does not decompress to %d bytes", lzf_raw));
      return -1;
    }
  } else {
    if (payload > limit) {
      status_ =
          Corrupt(absl::StrFormat("string of %d bytes exceeds the limit of %d", payload, limit));
      return -1;
    }
    out->assign(p, payload);
  }
  pos_ += payload;
  return 1;
}

asio::awaitable<absl::Status> RdbReader::SkipBytes(uint64_t n) {
  for (;;) {
    uint64_t take = std::min<uint64_t>(n, src_->Available().size() - pos_);
    pos_ += take;
    n -= take;
    if (n == 0) co_return absl::OkStatus();
    CO_RETURN_IF_ERROR(co_await Refill(std::min<uint64_t>(n, options_.value_chunk)));
  }
}

asio::awaitable<absl::Status> RdbReader::SkipString() {
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  RDB_STEP(TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw));
  co_return co_await SkipBytes(payload);
}

// Slow path of TryReadString: the string straddles the buffer or is larger
// than one Fill.
asio::awaitable<absl::Status> RdbReader::ReadString(std::string* out, uint64_t limit) {
  uint64_t payload = 0, lzf_raw = 0;
  bool is_int = false, is_lzf = false;
  RDB_STEP(TryStringHeader(&payload, &is_int, &is_lzf, &lzf_raw));
  if (is_int) {
    uint64_t v = 0;
    RDB_STEP(TryFixed(payload, &v));
    int64_t value = payload == 1   ? static_cast<int8_t>(v)
                    : payload == 2 ? static_cast<int16_t>(v)
                                   : static_cast<int32_t>(v);
    *out = absl::StrCat(value);
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

asio::awaitable<absl::Status> RdbReader::SkipModuleValue() {
  for (;;) {
    uint64_t op = 0, ignored = 0;
    RDB_STEP(TryLen(&op));
    switch (op) {
      case rdb::kModuleOpEof:
        co_return absl::OkStatus();
      case rdb::kModuleOpSint:
      case rdb::kModuleOpUint:
        RDB_STEP(TryLen(&ignored));
        break;
      case rdb::kModuleOpFloat:
        RDB_STEP(TryFixed(4, nullptr));
        break;
      case rdb::kModuleOpDouble:
        RDB_STEP(TryFixed(8, nullptr));
        break;
      case rdb::kModuleOpString:
        RDB_SKIP_STRING();
        break;
      default:
        co_return Corrupt(absl::StrFormat("unknown module value opcode %d", op));
    }
  }
}

asio::awaitable<absl::Status> RdbReader::SkipStream(int v) {
  uint64_t n = 0, ignored = 0;
  RDB_STEP(TryCount(&n));  // listpack nodes
  for (uint64_t i = 0; i < n; ++i) {
    RDB_SKIP_STRING();  // master entry id (16 bytes)
    RDB_SKIP_STRING();  // listpack
  }
  RDB_STEP(TryLen(&ignored));  // length
  RDB_STEP(TryLen(&ignored));  // last_id ms
  RDB_STEP(TryLen(&ignored));  // last_id seq
  if (v >= 2) {
    for (int i = 0; i < 5; ++i) RDB_STEP(TryLen(&ignored));  // first_id, max_deleted_id, added
  }
  uint64_t groups = 0;
  RDB_STEP(TryCount(&groups));
  for (uint64_t g = 0; g < groups; ++g) {
    RDB_SKIP_STRING();                       // group name
    RDB_STEP(TryLen(&ignored));              // last_id ms
    RDB_STEP(TryLen(&ignored));              // last_id seq
    if (v >= 2) RDB_STEP(TryLen(&ignored));  // entries_read
    uint64_t pel = 0;
    RDB_STEP(TryCount(&pel));
    for (uint64_t i = 0; i < pel; ++i) {
      RDB_STEP(TryFixed(16 + 8, nullptr));  // raw id, delivery time
      RDB_STEP(TryLen(&ignored));           // delivery count
    }
    uint64_t consumers = 0;
    RDB_STEP(TryCount(&consumers));
    for (uint64_t c = 0; c < consumers; ++c) {
      RDB_SKIP_STRING();                             // consumer name
      RDB_STEP(TryFixed(v >= 3 ? 16 : 8, nullptr));  // seen time [, active time]
      uint64_t cpel = 0;
      RDB_STEP(TryCount(&cpel));
      for (uint64_t i = 0; i < cpel; ++i) RDB_STEP(TryFixed(16, nullptr));
    }
  }
  if (v >= 4) {
    // Idempotent-producer (IDMP) state, Redis 8.6.
    RDB_STEP(TryLen(&ignored));  // idmp duration
    RDB_STEP(TryLen(&ignored));  // idmp max entries
    uint64_t producers = 0;
    RDB_STEP(TryCount(&producers));
    for (uint64_t p = 0; p < producers; ++p) {
      RDB_SKIP_STRING();  // producer id
      uint64_t entries = 0;
      RDB_STEP(TryCount(&entries));
      for (uint64_t e = 0; e < entries; ++e) {
        RDB_SKIP_STRING();           // idempotent id
        RDB_STEP(TryLen(&ignored));  // stream id ms
        RDB_STEP(TryLen(&ignored));  // stream id seq
      }
    }
    RDB_STEP(TryLen(&ignored));  // iids added
    RDB_STEP(TryLen(&ignored));  // iids duplicates
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::SkipValue(uint8_t type) {
  uint64_t n = 0, ignored = 0;
  if (IsSingleStringType(type)) {
    RDB_SKIP_STRING();
    co_return absl::OkStatus();
  }
  switch (type) {
    case rdb::kTypeList:
    case rdb::kTypeSet:
    case rdb::kTypeListQuicklist:
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) RDB_SKIP_STRING();
      break;
    case rdb::kTypeZset:
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        RDB_SKIP_STRING();
        uint8_t dlen = 0;
        RDB_STEP(TryByte(&dlen));
        if (dlen < rdb::kZsetDoubleNan) RDB_STEP(TryFixed(dlen, nullptr));
      }
      break;
    case rdb::kTypeHash:
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        RDB_SKIP_STRING();
        RDB_SKIP_STRING();
      }
      break;
    case rdb::kTypeZset2:
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        RDB_SKIP_STRING();
        RDB_STEP(TryFixed(8, nullptr));
      }
      break;
    case rdb::kTypeModulePreGa:
      co_return Corrupt(
          "module value of type 6 (MODULE_PRE_GA, Redis 4.0 release candidates) cannot be "
          "skipped without the module");
    case rdb::kTypeModule2:
      RDB_STEP(TryLen(&ignored));  // module id
      CO_RETURN_IF_ERROR(co_await SkipModuleValue());
      break;
    case rdb::kTypeListQuicklist2:
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t container = 0;
        RDB_STEP(TryLen(&container));
        if (container != rdb::kQuicklistPlain && container != rdb::kQuicklistPacked) {
          co_return Corrupt(absl::StrFormat("unknown quicklist container %d", container));
        }
        RDB_SKIP_STRING();
      }
      break;
    case rdb::kTypeStreamListpacks:
      co_return co_await SkipStream(1);
    case rdb::kTypeStreamListpacks2:
      co_return co_await SkipStream(2);
    case rdb::kTypeStreamListpacks3:
      co_return co_await SkipStream(3);
    case rdb::kTypeStreamListpacks4:
      co_return co_await SkipStream(4);
    case 22:
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        if (valkey_) {  // HASH_2: field, value, 8-byte expiry
          RDB_SKIP_STRING();
          RDB_SKIP_STRING();
          RDB_STEP(TryFixed(8, nullptr));
        } else {  // HASH_METADATA_PRE_GA: len ttl, field, value
          RDB_STEP(TryLen(&ignored));
          RDB_SKIP_STRING();
          RDB_SKIP_STRING();
        }
      }
      break;
    case rdb::kTypeHashMetadata:
      RDB_STEP(TryFixed(8, nullptr));  // minExpire
      RDB_STEP(TryCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        RDB_STEP(TryLen(&ignored));  // ttl
        RDB_SKIP_STRING();
        RDB_SKIP_STRING();
      }
      break;
    case rdb::kTypeHashListpackEx:
      RDB_STEP(TryFixed(8, nullptr));  // minExpire
      RDB_SKIP_STRING();
      break;
    default:
      co_return Corrupt(absl::StrFormat("unknown value type %d", type));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadHeader() {
  doing_ = "header";
  mode_ = Mode::kDiscard;
  RDB_STEP(TryFixed(rdb::kMagicSize, nullptr));
  std::string magic(src_->Available().substr(pos_ - rdb::kMagicSize, rdb::kMagicSize));
  int digits_at = 0;
  if (magic.compare(0, 5, "REDIS") == 0) {
    digits_at = 5;
  } else if (magic.compare(0, 6, "VALKEY") == 0) {
    digits_at = 6;
    valkey_ = true;
  } else {
    pos_ = 0;
    co_return Corrupt(absl::StrCat("not an RDB: bad magic '", absl::CHexEscape(magic), "'"));
  }
  int version = 0;
  for (int i = digits_at; i < rdb::kMagicSize; ++i) {
    if (magic[i] < '0' || magic[i] > '9') {
      pos_ = 0;
      co_return Corrupt(absl::StrCat("not an RDB: bad magic '", absl::CHexEscape(magic), "'"));
    }
    version = version * 10 + (magic[i] - '0');
  }
  version_ = version;
  bool supported =
      valkey_ ? version == rdb::kValkeyVersion : (version >= 1 && version <= rdb::kMaxRedisVersion);
  if (!supported) {
    co_return absl::FailedPreconditionError(absl::StrCat("unsupported RDB version ", version));
  }
  Flush();
  handler_->OnHeader(version, magic);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadEntry(uint8_t first) {
  mode_ = Mode::kCollect;
  collect_.clear();
  doing_ = "key prefix";
  int64_t expire_ms = -1;
  uint8_t b = first;
  for (;;) {
    uint64_t v = 0;
    if (b == rdb::kOpExpireTimeMs) {
      RDB_STEP(TryFixed(8, &v));
      expire_ms = static_cast<int64_t>(v);
    } else if (b == rdb::kOpExpireTime) {
      RDB_STEP(TryFixed(4, &v));
      expire_ms = static_cast<int64_t>(static_cast<int32_t>(v)) * 1000;
    } else if (b == rdb::kOpIdle) {
      RDB_STEP(TryLen(&v));
    } else if (b == rdb::kOpFreq) {
      RDB_STEP(TryFixed(1, nullptr));
    } else if (b == rdb::kOpKeyMeta && !valkey_ && version_ >= 13) {
      uint64_t classes = 0;
      RDB_STEP(TryCount(&classes));
      if (classes > 64) co_return Corrupt(absl::StrFormat("KEY_META with %d classes", classes));
      for (uint64_t i = 0; i < classes; ++i) {
        RDB_STEP(TryFixed(4, nullptr));  // class spec
        CO_RETURN_IF_ERROR(co_await SkipModuleValue());
      }
    } else if (IsKnownType(b)) {
      break;
    } else {
      pos_ -= 1;
      co_return Corrupt(absl::StrFormat("unknown type %d after key prefix opcodes", b));
    }
    RDB_STEP(TryByte(&b));
  }
  entry_type_ = b;
  doing_ = "key";
  key_.clear();
  int r = TryReadString(&key_, options_.max_key_bytes);
  if (r < 0) co_return status_;
  if (r == 0) CO_RETURN_IF_ERROR(co_await ReadString(&key_, options_.max_key_bytes));
  Flush();
  RdbEntry entry;
  entry.db = db_;
  entry.key = key_;
  entry.type = b;
  entry.expire_ms = expire_ms;
  entry.raw_header = collect_;
  wanted_ = handler_->OnEntryBegin(entry);
  mode_ = Mode::kValue;
  in_entry_value_ = true;
  if (IsSingleStringType(b)) {
    RDB_SKIP_STRING();
  } else {
    CO_RETURN_IF_ERROR(co_await SkipValue(b));
  }
  Flush();
  in_entry_value_ = false;
  mode_ = Mode::kDiscard;
  doing_ = "opcode";
  handler_->OnEntryEnd();
  ++keys_read_;
  if (handler_->ShouldPause()) CO_RETURN_IF_ERROR(co_await handler_->WaitWritable());
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadChecksum() {
  if (version_ < rdb::kFirstVersionWithChecksum) {
    ConsumeFlushed();
    handler_->OnEnd();
    co_return absl::OkStatus();
  }
  doing_ = "CRC64 trailer";
  ConsumeFlushed();  // crc_ now covers everything before the trailer
  crc_active_ = false;
  uint64_t stored = 0;
  RDB_STEP(TryFixed(8, &stored));
  // 0 means the writer had rdbchecksum off.
  if (stored != 0 && stored != crc_) {
    pos_ -= 8;
    co_return Corrupt(
        absl::StrFormat("CRC64 mismatch: trailer says %016x, data hashes to %016x", stored, crc_));
  }
  Flush();
  ConsumeFlushed();
  handler_->OnEnd();
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::Run() {
  start_ = src_->consumed();
  CO_RETURN_IF_ERROR(co_await ReadHeader());
  for (;;) {
    Flush();
    mode_ = Mode::kDiscard;
    doing_ = "opcode";
    uint8_t op = 0;
    RDB_STEP(TryByte(&op));
    uint64_t a = 0, b = 0, c = 0;
    switch (op) {
      case rdb::kOpEof:
        Flush();
        co_return co_await ReadChecksum();
      case rdb::kOpSelectDb:
        doing_ = "SELECTDB";
        RDB_STEP(TryLen(&a));
        if (a > INT_MAX) co_return Corrupt(absl::StrFormat("db number %d out of range", a));
        db_ = static_cast<int>(a);
        Flush();
        handler_->OnSelectDb(db_);
        break;
      case rdb::kOpResizeDb:
        doing_ = "RESIZEDB";
        RDB_STEP(TryLen(&a));
        RDB_STEP(TryLen(&b));
        handler_->OnResizeDb(db_, a, b);
        break;
      case rdb::kOpSlotInfo:
        doing_ = "SLOT_INFO";
        RDB_STEP(TryLen(&a));
        RDB_STEP(TryLen(&b));
        RDB_STEP(TryLen(&c));
        break;
      case rdb::kOpAux: {
        mode_ = Mode::kCollect;
        collect_.clear();
        doing_ = "aux field name";
        int r = TryReadString(&key_, options_.max_key_bytes);
        if (r < 0) co_return status_;
        if (r == 0) CO_RETURN_IF_ERROR(co_await ReadString(&key_, options_.max_key_bytes));
        doing_ = "aux field value";
        r = TryReadString(&aux_value_, options_.max_string_bytes);
        if (r < 0) co_return status_;
        if (r == 0) CO_RETURN_IF_ERROR(co_await ReadString(&aux_value_, options_.max_string_bytes));
        Flush();
        handler_->OnAux(key_, aux_value_, collect_);
        key_.clear();
        break;
      }
      case rdb::kOpModuleAux:
        mode_ = Mode::kCollect;
        collect_.clear();
        doing_ = "MODULE_AUX";
        RDB_STEP(TryLen(&a));  // module id
        RDB_STEP(TryLen(&b));  // "when" opcode
        if (b != rdb::kModuleOpUint) {
          co_return Corrupt(absl::StrFormat("MODULE_AUX 'when' opcode %d, expected 2", b));
        }
        RDB_STEP(TryLen(&c));  // when
        CO_RETURN_IF_ERROR(co_await SkipModuleValue());
        Flush();
        handler_->OnGlobal(op, collect_);
        break;
      case rdb::kOpFunction2:
        mode_ = Mode::kCollect;
        collect_.clear();
        doing_ = "FUNCTION2";
        RDB_SKIP_STRING();
        Flush();
        handler_->OnGlobal(op, collect_);
        break;
      case rdb::kOpFunctionPreGa:
        mode_ = Mode::kCollect;
        collect_.clear();
        doing_ = "FUNCTION (7.0-rc)";
        RDB_SKIP_STRING();  // name
        RDB_SKIP_STRING();  // engine
        RDB_STEP(TryLen(&a));
        if (a) RDB_SKIP_STRING();  // description
        RDB_SKIP_STRING();         // code
        Flush();
        handler_->OnGlobal(op, collect_);
        break;
      default:
        if (op == rdb::kOpSlotImport && valkey_) {
          mode_ = Mode::kCollect;
          collect_.clear();
          doing_ = "SLOT_IMPORT";
          RDB_SKIP_STRING();  // job name
          RDB_STEP(TryCount(&a));
          for (uint64_t i = 0; i < a; ++i) {
            RDB_STEP(TryLen(&b));
            RDB_STEP(TryLen(&c));
          }
          Flush();
          handler_->OnGlobal(op, collect_);
          break;
        }
        if (op == rdb::kOpExpireTimeMs || op == rdb::kOpExpireTime || op == rdb::kOpIdle ||
            op == rdb::kOpFreq || (op == rdb::kOpKeyMeta && version_ >= 13) || IsKnownType(op)) {
          CO_RETURN_IF_ERROR(co_await ReadEntry(op));
          break;
        }
        pos_ -= 1;
        co_return Corrupt(absl::StrFormat("unknown type or opcode %d", op));
    }
  }
}

absl::Status RunRdbReaderSync(RdbReader& reader) {
  asio::io_context ctx;
  absl::Status result = absl::InternalError("RDB reader did not complete");
  asio::co_spawn(ctx, reader.Run(), [&result](std::exception_ptr e, absl::Status s) {
    result = e ? absl::InternalError("RDB reader threw an exception") : std::move(s);
  });
  ctx.run();
  return result;
}

}  // namespace reshard::engine
