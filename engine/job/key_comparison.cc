#include "engine/job/key_comparison.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace reshard::engine {
namespace {

// DUMP's trailer: RDB version (2 bytes) and CRC64 (8 bytes).
constexpr size_t kDumpTrailer = 10;

std::string ExpiryText(int64_t value, bool absolute, int64_t now_ms) {
  if (value < 0) return "none";
  return absl::StrCat(absolute ? value - now_ms : value, " ms");
}

}  // namespace

std::optional<KeyRead> KeyReadFromReplies(RespValue dump, const RespValue& expiry) {
  if (expiry.type != RespValue::Type::kInteger) return std::nullopt;
  KeyRead read;
  if (dump.type == RespValue::Type::kNull) return read;
  if (dump.type != RespValue::Type::kBulkString) return std::nullopt;
  read.exists = true;
  read.dump = std::move(dump.str);
  read.expiry = expiry.integer < 0 ? -1 : expiry.integer;
  return read;
}

bool DumpValuesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.size() < kDumpTrailer) return a == b;
  return a.substr(0, a.size() - kDumpTrailer) == b.substr(0, b.size() - kDumpTrailer);
}

std::optional<std::string> CompareExpiry(int64_t source, int64_t target, int64_t tolerance_ms,
                                         bool absolute, int64_t now_ms, std::string_view what) {
  if (source < 0 && target < 0) return std::nullopt;
  if (source >= 0 && target >= 0 && std::llabs(source - target) <= tolerance_ms) {
    return std::nullopt;
  }
  return absl::StrCat(absl::string_view(what.data(), what.size()), ": source ",
                      ExpiryText(source, absolute, now_ms), ", target ",
                      ExpiryText(target, absolute, now_ms));
}

QuickVerdict QuickCompare(const KeyRead& source, const KeyRead& target, int64_t tolerance_ms,
                          bool absolute, int64_t now_ms, KeyDifference* difference) {
  if (!source.exists) return target.exists ? QuickVerdict::kSourceAbsent : QuickVerdict::kEqual;
  if (!target.exists) {
    *difference = {VerifyProblemKind::kMissing, "not on the target"};
    return QuickVerdict::kDifferent;
  }
  if (!DumpValuesEqual(source.dump, target.dump)) return QuickVerdict::kValuesDiffer;
  if (std::optional<std::string> ttl =
          CompareExpiry(source.expiry, target.expiry, tolerance_ms, absolute, now_ms)) {
    *difference = {VerifyProblemKind::kDifferentTtl, std::move(*ttl)};
    return QuickVerdict::kDifferent;
  }
  return QuickVerdict::kEqual;
}

bool SameSourceRead(const KeyRead& a, const KeyRead& b, int64_t tolerance_ms) {
  if (a.exists != b.exists) return false;
  if (!a.exists) return true;
  if (a.dump != b.dump) return false;
  if ((a.expiry < 0) != (b.expiry < 0)) return false;
  return a.expiry < 0 || std::llabs(a.expiry - b.expiry) <= tolerance_ms;
}

}  // namespace reshard::engine
