#include "engine/rdb/rdb_format.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/base/absl_view.h"

namespace reshard::engine::rdb {

bool IsSingleStringType(uint8_t t) {
  switch (t) {
    case kTypeString:
    case kTypeHashZipmap:
    case kTypeListZiplist:
    case kTypeSetIntset:
    case kTypeZsetZiplist:
    case kTypeHashZiplist:
    case kTypeHashListpack:
    case kTypeZsetListpack:
    case kTypeSetListpack:
    case kTypeHashListpackExPreGa:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<RdbMagic> ParseRdbMagic(std::string_view first9) {
  std::string_view magic = first9.substr(0, kMagicSize);
  auto bad_magic = [magic] {
    return absl::DataLossError(
        absl::StrCat("not an RDB: bad magic '", absl::CHexEscape(AsAbsl(magic)), "'"));
  };
  if (magic.size() < static_cast<size_t>(kMagicSize)) return bad_magic();
  RdbMagic out;
  std::string_view digits;
  if (magic.substr(0, kRedisMagicPrefix.size()) == kRedisMagicPrefix) {
    digits = magic.substr(kRedisMagicPrefix.size());
  } else if (magic.substr(0, kValkeyMagicPrefix.size()) == kValkeyMagicPrefix) {
    out.flavour = RdbFlavour::kValkey;
    digits = magic.substr(kValkeyMagicPrefix.size());
  } else {
    return bad_magic();
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return bad_magic();
    out.version = out.version * 10 + (c - '0');
  }
  bool supported = out.flavour == RdbFlavour::kValkey
                       ? out.version == kValkeyVersion
                       : out.version >= 1 && out.version <= kMaxRedisVersion;
  if (!supported) {
    // A newer (or foreign) format is refused at its header, never guessed at.
    return absl::FailedPreconditionError(
        absl::StrCat("rdb offset 0: header: unsupported RDB version ", out.version, " ('",
                     AsAbsl(magic), "'; this reshardd reads REDIS0001 to REDIS00", kMaxRedisVersion,
                     " and VALKEY0", kValkeyVersion, ")"));
  }
  return out;
}

std::string TypeName(uint8_t type, RdbFlavour flavour) {
  switch (type) {
    case kTypeString:
      return "string";
    case kTypeList:
      return "list";
    case kTypeSet:
      return "set";
    case kTypeZset:
      return "zset";
    case kTypeHash:
      return "hash";
    case kTypeZset2:
      return "zset2";
    case kTypeModulePreGa:
      return "module-pre-ga";
    case kTypeModule2:
      return "module2";
    case kTypeHashZipmap:
      return "hash-zipmap";
    case kTypeListZiplist:
      return "list-ziplist";
    case kTypeSetIntset:
      return "set-intset";
    case kTypeZsetZiplist:
      return "zset-ziplist";
    case kTypeHashZiplist:
      return "hash-ziplist";
    case kTypeListQuicklist:
      return "list-quicklist";
    case kTypeStreamListpacks:
      return "stream-v1";
    case kTypeHashListpack:
      return "hash-listpack";
    case kTypeZsetListpack:
      return "zset-listpack";
    case kTypeListQuicklist2:
      return "list-quicklist2";
    case kTypeStreamListpacks2:
      return "stream-v2";
    case kTypeSetListpack:
      return "set-listpack";
    case kTypeStreamListpacks3:
      return "stream-v3";
    case kTypeHashMetadataPreGa:  // == kTypeValkeyHash2
      return IsValkeyHash2(type, flavour) ? "hash2" : "hash-metadata-pre-ga";
    case kTypeHashListpackExPreGa:
      return "hash-listpack-ex-pre-ga";
    case kTypeHashMetadata:
      return "hash-metadata";
    case kTypeHashListpackEx:
      return "hash-listpack-ex";
    case kTypeStreamListpacks4:
      return "stream-v4";
  }
  return absl::StrCat("type-", type);
}

}  // namespace reshard::engine::rdb
