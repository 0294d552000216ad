#pragma once

// RdbBuilder: hand-builds RDB bytes for tests, one encoding at a time, so a
// test states exactly which length/string/opcode encodings it exercises.

#include <lzf.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "engine/rdb/crc64.h"
#include "engine/rdb/rdb_format.h"

namespace reshard::engine::testing {

class RdbBuilder {
 public:
  explicit RdbBuilder(int version = 10, bool valkey = false) : version_(version) {
    char magic[16];
    if (valkey) {
      std::snprintf(magic, sizeof(magic), "VALKEY%03d", version);
    } else {
      std::snprintf(magic, sizeof(magic), "REDIS%04d", version);
    }
    out_ = magic;
  }

  // A builder for a piece of an RDB (no magic), e.g. one value.
  static RdbBuilder Fragment() {
    RdbBuilder b;
    b.out_.clear();
    return b;
  }

  RdbBuilder& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  RdbBuilder& Byte(uint8_t b) {
    out_.push_back(static_cast<char>(b));
    return *this;
  }
  // Little-endian fixed width.
  RdbBuilder& Le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  // Shortest length encoding.
  RdbBuilder& Len(uint64_t n) {
    out_ += EncodeLen(n);
    return *this;
  }
  RdbBuilder& Len32(uint32_t n) {
    Byte(rdb::kLen32Bit);
    for (int s = 24; s >= 0; s -= 8) Byte(static_cast<uint8_t>(n >> s));
    return *this;
  }
  RdbBuilder& Len64(uint64_t n) {
    Byte(rdb::kLen64Bit);
    for (int s = 56; s >= 0; s -= 8) Byte(static_cast<uint8_t>(n >> s));
    return *this;
  }
  RdbBuilder& Str(std::string_view s) {
    Len(s.size());
    return Raw(s);
  }
  RdbBuilder& Int8Str(int8_t v) { return Byte(0xC0).Le(static_cast<uint8_t>(v), 1); }
  RdbBuilder& Int16Str(int16_t v) { return Byte(0xC1).Le(static_cast<uint16_t>(v), 2); }
  RdbBuilder& Int32Str(int32_t v) { return Byte(0xC2).Le(static_cast<uint32_t>(v), 4); }
  RdbBuilder& LzfStr(std::string_view s) {
    std::string buf(s.size() + 64, '\0');
    unsigned n = lzf_compress(s.data(), s.size(), buf.data(), buf.size());
    Byte(0xC3).Len(n).Len(s.size());
    return Raw(std::string_view(buf.data(), n));
  }
  RdbBuilder& Aux(std::string_view k, std::string_view v) {
    return Byte(rdb::kOpAux).Str(k).Str(v);
  }
  RdbBuilder& SelectDb(uint64_t db) { return Byte(rdb::kOpSelectDb).Len(db); }
  RdbBuilder& ResizeDb(uint64_t a, uint64_t b) { return Byte(rdb::kOpResizeDb).Len(a).Len(b); }
  RdbBuilder& ExpireMs(uint64_t ms) { return Byte(rdb::kOpExpireTimeMs).Le(ms, 8); }
  RdbBuilder& StringKey(std::string_view key, std::string_view value) {
    return Byte(rdb::kTypeString).Str(key).Str(value);
  }

  // Appends EOF and, for RDB >= 5, the CRC64 (0 if !checksum).
  std::string Finish(bool checksum = true) const {
    std::string s = out_;
    s.push_back(static_cast<char>(rdb::kOpEof));
    if (version_ >= rdb::kFirstVersionWithChecksum) {
      uint64_t crc = checksum ? Crc64(0, s) : 0;
      for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(crc >> (8 * i)));
    }
    return s;
  }
  const std::string& bytes() const { return out_; }
  size_t size() const { return out_.size(); }

  static std::string EncodeLen(uint64_t n) {
    std::string s;
    if (n < 64) {
      s.push_back(static_cast<char>(n));
    } else if (n < 16384) {
      s.push_back(static_cast<char>(0x40 | (n >> 8)));
      s.push_back(static_cast<char>(n & 0xff));
    } else if (n <= 0xffffffffULL) {
      s.push_back(static_cast<char>(0x80));
      for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>(n >> sh));
    } else {
      s.push_back(static_cast<char>(0x81));
      for (int sh = 56; sh >= 0; sh -= 8) s.push_back(static_cast<char>(n >> sh));
    }
    return s;
  }

 private:
  int version_;
  std::string out_;
};

}  // namespace reshard::engine::testing
