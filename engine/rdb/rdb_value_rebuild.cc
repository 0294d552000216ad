#include "engine/rdb/rdb_value_rebuild.h"

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/rdb/rdb_format.h"
#include "engine/rdb/rdb_memory_reader.h"

namespace reshard::engine {
namespace {

std::string Quoted(std::string_view key) {
  return absl::StrCat("'", absl::CHexEscape(AsAbsl(key.substr(0, 64))),
                      key.size() > 64 ? "...'" : "'");
}

// Elements gathered into commands `prefix element...` of at most `max`
// bytes of arguments; a group (field and value, score and member) stays in
// one command.
class Batcher {
 public:
  Batcher(std::string_view key, std::vector<std::string> prefix, size_t max, RebuildCommands* out)
      : key_(key), prefix_(std::move(prefix)), max_(max), out_(out) {
    for (const std::string& arg : prefix_) prefix_bytes_ += arg.size();
  }
  absl::Status Add(std::initializer_list<std::string_view> group) {
    size_t bytes = 0;
    for (std::string_view arg : group) bytes += arg.size();
    if (prefix_bytes_ + bytes > max_) {
      return absl::FailedPreconditionError(
          absl::StrCat("key ", Quoted(key_), " holds an element of ", bytes,
                       " bytes, more than one command to the target may carry (", max_,
                       " bytes): raise proto-max-bulk-len on the target"));
    }
    if (open_ == nullptr || open_bytes_ + bytes > max_) {
      out_->push_back(prefix_);
      open_ = &out_->back();
      open_bytes_ = prefix_bytes_;
    }
    for (std::string_view arg : group) open_->emplace_back(arg);
    open_bytes_ += bytes;
    return absl::OkStatus();
  }

 private:
  std::string_view key_;
  std::vector<std::string> prefix_;
  size_t prefix_bytes_ = 0;
  size_t max_;
  RebuildCommands* out_;
  std::vector<std::string>* open_ = nullptr;
  size_t open_bytes_ = 0;
};

absl::Status Corrupt(std::string_view what, std::string_view problem) {
  return absl::DataLossError(absl::StrCat(AsAbsl(what), ": ", AsAbsl(problem)));
}

uint64_t LittleEndian(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A signed integer of `bits` bits stored in the low bits of `v`.
int64_t SignExtend(uint64_t v, int bits) {
  const uint64_t sign = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

// The elements of a listpack (Redis >= 7 lists, compact encodings).
absl::Status ListpackElements(std::string_view lp, std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(lp.data());
  const size_t size = lp.size();
  if (size < 7 || LittleEndian(p, 4) != size) return Corrupt("listpack", "bad header");
  size_t i = 6;
  while (i < size && p[i] != 0xff) {
    const uint8_t b = p[i];
    size_t header = 1, length = 0;
    bool is_int = true;
    int64_t value = 0;
    auto need = [&](size_t n) { return i + n <= size; };
    if ((b & 0x80) == 0) {
      value = b & 0x7f;
    } else if ((b & 0xc0) == 0x80) {
      is_int = false;
      length = b & 0x3f;
    } else if ((b & 0xe0) == 0xc0) {
      if (!need(2)) break;
      header = 2;
      value = SignExtend(((b & 0x1f) << 8) | p[i + 1], 13);
    } else if ((b & 0xf0) == 0xe0) {
      if (!need(2)) break;
      is_int = false;
      header = 2;
      length = ((b & 0x0f) << 8) | p[i + 1];
    } else if (b == 0xf0) {
      if (!need(5)) break;
      is_int = false;
      header = 5;
      length = LittleEndian(p + i + 1, 4);
    } else if (b >= 0xf1 && b <= 0xf4) {
      const int bytes = b == 0xf1 ? 2 : b == 0xf2 ? 3 : b == 0xf3 ? 4 : 8;
      if (!need(1 + bytes)) break;
      header = 1 + bytes;
      value = SignExtend(LittleEndian(p + i + 1, bytes), bytes * 8);
    } else {
      return Corrupt("listpack", absl::StrCat("unknown entry encoding ", b));
    }
    const size_t data = is_int ? header : header + length;
    if (!need(data)) break;
    if (is_int) {
      out->push_back(std::to_string(value));
    } else {
      out->emplace_back(lp.substr(i + header, length));
    }
    // The back-length: the entry's size in 7-bit groups.
    size_t back = 1;
    for (size_t n = data; n >= 128; n >>= 7) ++back;
    i += data + back;
  }
  if (i >= size || p[i] != 0xff) return Corrupt("listpack", "truncated");
  return absl::OkStatus();
}

// The elements of a ziplist (lists of Redis < 7).
absl::Status ZiplistElements(std::string_view zl, std::vector<std::string>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(zl.data());
  const size_t size = zl.size();
  if (size < 11 || LittleEndian(p, 4) != size) return Corrupt("ziplist", "bad header");
  size_t i = 10;
  while (i < size && p[i] != 0xff) {
    i += p[i] == 0xfe ? 5 : 1;  // the previous entry's length
    if (i >= size) break;
    const uint8_t b = p[i];
    size_t header = 1, length = 0;
    bool is_int = true;
    int64_t value = 0;
    auto need = [&](size_t n) { return i + n <= size; };
    switch (b >> 6) {
      case 0:
        is_int = false;
        length = b & 0x3f;
        break;
      case 1:
        if (!need(2)) return Corrupt("ziplist", "truncated");
        is_int = false;
        header = 2;
        length = ((b & 0x3f) << 8) | p[i + 1];
        break;
      case 2:
        if (!need(5)) return Corrupt("ziplist", "truncated");
        is_int = false;
        header = 5;
        length = (uint64_t{p[i + 1]} << 24) | (p[i + 2] << 16) | (p[i + 3] << 8) | p[i + 4];
        break;
      default: {
        int bytes = 0;
        if (b == 0xc0) {
          bytes = 2;
        } else if (b == 0xd0) {
          bytes = 4;
        } else if (b == 0xe0) {
          bytes = 8;
        } else if (b == 0xf0) {
          bytes = 3;
        } else if (b == 0xfe) {
          bytes = 1;
        } else if (b >= 0xf1 && b <= 0xfd) {
          value = (b & 0x0f) - 1;
        } else {
          return Corrupt("ziplist", absl::StrCat("unknown entry encoding ", b));
        }
        if (bytes > 0) {
          if (!need(1 + bytes)) return Corrupt("ziplist", "truncated");
          header = 1 + bytes;
          value = SignExtend(LittleEndian(p + i + 1, bytes), bytes * 8);
        }
      }
    }
    const size_t data = is_int ? header : header + length;
    if (!need(data)) return Corrupt("ziplist", "truncated");
    if (is_int) {
      out->push_back(std::to_string(value));
    } else {
      out->emplace_back(zl.substr(i + header, length));
    }
    i += data;
  }
  if (i >= size || p[i] != 0xff) return Corrupt("ziplist", "truncated");
  return absl::OkStatus();
}

// A score as ZADD reads it back exactly.
std::string Score(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.17g", score);
}

absl::Status Elements(RdbMemoryReader& reader, uint64_t n, Batcher& batch, int per_group) {
  std::string a, b;
  for (uint64_t j = 0; j < n; ++j) {
    RETURN_IF_ERROR(reader.ReadString(&a));
    if (per_group == 2) {
      RETURN_IF_ERROR(reader.ReadString(&b));
      RETURN_IF_ERROR(batch.Add({a, b}));
    } else {
      RETURN_IF_ERROR(batch.Add({a}));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool CanRebuildInParts(uint8_t type) {
  switch (type) {
    case rdb::kTypeString:
    case rdb::kTypeList:
    case rdb::kTypeSet:
    case rdb::kTypeHash:
    case rdb::kTypeZset2:
    case rdb::kTypeListQuicklist:
    case rdb::kTypeListQuicklist2:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<RebuildCommands> RebuildValueCommands(std::string_view key, uint8_t type,
                                                     std::string value, size_t max_command_bytes) {
  if (!CanRebuildInParts(type)) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", Quoted(key), " (RDB type ", type, ", ", value.size(),
                     " bytes) cannot be rebuilt in parts: raise proto-max-bulk-len on the target"));
  }
  RebuildCommands out;
  const std::string k(key);
  RdbMemoryReader reader(std::move(value), absl::StrCat("value of ", Quoted(key)));
  if (type == rdb::kTypeString) {
    std::string s;
    RETURN_IF_ERROR(reader.ReadString(&s));
    const size_t chunk =
        max_command_bytes > key.size() + 16 ? max_command_bytes - key.size() - 16 : 1;
    out.push_back({"SET", k, s.substr(0, chunk)});
    for (size_t at = chunk; at < s.size(); at += chunk) {
      out.push_back({"APPEND", k, s.substr(at, chunk)});
    }
    return out;
  }
  out.push_back({"DEL", k});
  uint64_t n = 0;
  RETURN_IF_ERROR(reader.ReadLen(&n));
  switch (type) {
    case rdb::kTypeList: {
      Batcher batch(key, {"RPUSH", k}, max_command_bytes, &out);
      RETURN_IF_ERROR(Elements(reader, n, batch, 1));
      break;
    }
    case rdb::kTypeSet: {
      Batcher batch(key, {"SADD", k}, max_command_bytes, &out);
      RETURN_IF_ERROR(Elements(reader, n, batch, 1));
      break;
    }
    case rdb::kTypeHash: {
      Batcher batch(key, {"HSET", k}, max_command_bytes, &out);
      RETURN_IF_ERROR(Elements(reader, n, batch, 2));
      break;
    }
    case rdb::kTypeZset2: {
      Batcher batch(key, {"ZADD", k}, max_command_bytes, &out);
      std::string member;
      for (uint64_t j = 0; j < n; ++j) {
        uint64_t bits = 0;
        RETURN_IF_ERROR(reader.ReadString(&member));
        RETURN_IF_ERROR(reader.ReadFixed(8, &bits));
        double score;
        std::memcpy(&score, &bits, sizeof(score));
        RETURN_IF_ERROR(batch.Add({Score(score), member}));
      }
      break;
    }
    case rdb::kTypeListQuicklist:
    case rdb::kTypeListQuicklist2: {
      Batcher batch(key, {"RPUSH", k}, max_command_bytes, &out);
      std::string node;
      std::vector<std::string> elements;
      for (uint64_t j = 0; j < n; ++j) {
        uint64_t container = 2;  // quicklist 1: every node is a ziplist
        if (type == rdb::kTypeListQuicklist2) RETURN_IF_ERROR(reader.ReadLen(&container));
        RETURN_IF_ERROR(reader.ReadString(&node));
        elements.clear();
        if (container == 1) {
          elements.push_back(std::move(node));  // PLAIN: one big element
        } else if (type == rdb::kTypeListQuicklist) {
          RETURN_IF_ERROR(ZiplistElements(node, &elements));
        } else {
          RETURN_IF_ERROR(ListpackElements(node, &elements));
        }
        for (const std::string& element : elements) RETURN_IF_ERROR(batch.Add({element}));
      }
      break;
    }
  }
  if (!reader.AtEnd()) {
    return absl::DataLossError(
        absl::StrCat("value of ", Quoted(key), ": bytes left after its last element"));
  }
  return out;
}

}  // namespace reshard::engine
