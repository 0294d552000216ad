#include "engine/rdb/rdb_value_layout.h"

#include "absl/strings/str_format.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

// The bytes of one stream-internal id (ms, seq) and of one PEL delivery time.
constexpr size_t kRawStreamIdSize = 16;
constexpr size_t kMsTimeSize = 8;

// `version` is 1..4 for kTypeStreamListpacks .. kTypeStreamListpacks4.
asio::awaitable<absl::Status> SkipStream(RdbCursor& c, int version) {
  uint64_t n = 0, ignored = 0;
  CO_RETURN_IF_ERROR(co_await c.ReadCount(&n));  // listpack nodes
  for (uint64_t i = 0; i < n; ++i) {
    CO_RETURN_IF_ERROR(co_await c.SkipString());  // master entry id (16 bytes)
    CO_RETURN_IF_ERROR(co_await c.SkipString());  // listpack
  }
  CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // length
  CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // last_id ms
  CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // last_id seq
  if (version >= 2) {
    for (int i = 0; i < 5; ++i) {
      CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // first_id, max_deleted_id, added
    }
  }
  uint64_t groups = 0;
  CO_RETURN_IF_ERROR(co_await c.ReadCount(&groups));
  for (uint64_t g = 0; g < groups; ++g) {
    CO_RETURN_IF_ERROR(co_await c.SkipString());                         // group name
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));                    // last_id ms
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));                    // last_id seq
    if (version >= 2) CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // entries_read
    uint64_t pel = 0;
    CO_RETURN_IF_ERROR(co_await c.ReadCount(&pel));
    for (uint64_t i = 0; i < pel; ++i) {
      CO_RETURN_IF_ERROR(co_await c.ReadFixed(kRawStreamIdSize + kMsTimeSize, nullptr));
      CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // delivery count
    }
    uint64_t consumers = 0;
    CO_RETURN_IF_ERROR(co_await c.ReadCount(&consumers));
    for (uint64_t i = 0; i < consumers; ++i) {
      CO_RETURN_IF_ERROR(co_await c.SkipString());  // consumer name
      // seen time [, active time since v3]
      CO_RETURN_IF_ERROR(
          co_await c.ReadFixed(version >= 3 ? 2 * kMsTimeSize : kMsTimeSize, nullptr));
      uint64_t cpel = 0;
      CO_RETURN_IF_ERROR(co_await c.ReadCount(&cpel));
      for (uint64_t j = 0; j < cpel; ++j) {
        CO_RETURN_IF_ERROR(co_await c.ReadFixed(kRawStreamIdSize, nullptr));
      }
    }
  }
  if (version >= 4) {
    // Idempotent-producer (IDMP) state, Redis 8.6.
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // idmp duration
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // idmp max entries
    uint64_t producers = 0;
    CO_RETURN_IF_ERROR(co_await c.ReadCount(&producers));
    for (uint64_t p = 0; p < producers; ++p) {
      CO_RETURN_IF_ERROR(co_await c.SkipString());  // producer id
      uint64_t entries = 0;
      CO_RETURN_IF_ERROR(co_await c.ReadCount(&entries));
      for (uint64_t e = 0; e < entries; ++e) {
        CO_RETURN_IF_ERROR(co_await c.SkipString());       // idempotent id
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // stream id ms
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // stream id seq
      }
    }
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // iids added
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // iids duplicates
  }
  co_return absl::OkStatus();
}

// len n, then n x (`strings` strings); for hashes with per-field expiry a
// len ttl before them or an 8-byte expiry after them.
enum class FieldTtl { kNone, kLenBefore, kFixedAfter };

asio::awaitable<absl::Status> SkipStringTuples(RdbCursor& c, int strings, FieldTtl ttl) {
  uint64_t n = 0, ignored = 0;
  CO_RETURN_IF_ERROR(co_await c.ReadCount(&n));
  for (uint64_t i = 0; i < n; ++i) {
    if (ttl == FieldTtl::kLenBefore) CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));
    for (int s = 0; s < strings; ++s) {
      // The common case, a wholly buffered string, without a coroutine frame.
      ParseResult r = c.TrySkipString();
      if (r == ParseResult::kError) co_return c.status();
      if (r == ParseResult::kNeedMore) CO_RETURN_IF_ERROR(co_await c.SkipString());
    }
    if (ttl == FieldTtl::kFixedAfter) CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, nullptr));
  }
  co_return absl::OkStatus();
}

}  // namespace

asio::awaitable<absl::Status> SkipRdbModuleValue(RdbCursor& c) {
  for (;;) {
    uint64_t op = 0, ignored = 0;
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&op));
    switch (op) {
      case rdb::kModuleOpEof:
        co_return absl::OkStatus();
      case rdb::kModuleOpSint:
      case rdb::kModuleOpUint:
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));
        break;
      case rdb::kModuleOpFloat:
        CO_RETURN_IF_ERROR(co_await c.ReadFixed(4, nullptr));
        break;
      case rdb::kModuleOpDouble:
        CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, nullptr));
        break;
      case rdb::kModuleOpString:
        CO_RETURN_IF_ERROR(co_await c.SkipString());
        break;
      default:
        co_return c.Corrupt(absl::StrFormat("unknown module value opcode %d", op));
    }
  }
}

asio::awaitable<absl::Status> SkipRdbValue(RdbCursor& c, uint8_t type, rdb::RdbFlavour flavour) {
  if (rdb::IsSingleStringType(type)) co_return co_await c.SkipString();
  uint64_t n = 0, ignored = 0;
  switch (type) {
    case rdb::kTypeList:
    case rdb::kTypeSet:
    case rdb::kTypeListQuicklist:
      co_return co_await SkipStringTuples(c, 1, FieldTtl::kNone);
    case rdb::kTypeZset:
      CO_RETURN_IF_ERROR(co_await c.ReadCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        CO_RETURN_IF_ERROR(co_await c.SkipString());
        uint8_t dlen = 0;  // a text double: its length, or NaN/+inf/-inf
        CO_RETURN_IF_ERROR(co_await c.ReadByte(&dlen));
        if (dlen < rdb::kZsetDoubleNan) CO_RETURN_IF_ERROR(co_await c.ReadFixed(dlen, nullptr));
      }
      co_return absl::OkStatus();
    case rdb::kTypeHash:
      co_return co_await SkipStringTuples(c, 2, FieldTtl::kNone);
    case rdb::kTypeZset2:
      CO_RETURN_IF_ERROR(co_await c.ReadCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        CO_RETURN_IF_ERROR(co_await c.SkipString());
        CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, nullptr));  // binary double
      }
      co_return absl::OkStatus();
    case rdb::kTypeModulePreGa:
      co_return c.Corrupt(
          "module value of type 6 (MODULE_PRE_GA, Redis 4.0 release candidates) cannot be "
          "skipped without the module");
    case rdb::kTypeModule2:
      CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));  // module id
      co_return co_await SkipRdbModuleValue(c);
    case rdb::kTypeListQuicklist2:
      CO_RETURN_IF_ERROR(co_await c.ReadCount(&n));
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t container = 0;
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&container));
        if (container != rdb::kQuicklistPlain && container != rdb::kQuicklistPacked) {
          co_return c.Corrupt(absl::StrFormat("unknown quicklist container %d", container));
        }
        CO_RETURN_IF_ERROR(co_await c.SkipString());
      }
      co_return absl::OkStatus();
    case rdb::kTypeStreamListpacks:
      co_return co_await SkipStream(c, 1);
    case rdb::kTypeStreamListpacks2:
      co_return co_await SkipStream(c, 2);
    case rdb::kTypeStreamListpacks3:
      co_return co_await SkipStream(c, 3);
    case rdb::kTypeStreamListpacks4:
      co_return co_await SkipStream(c, 4);
    case rdb::kTypeHashMetadataPreGa:  // == kTypeValkeyHash2
      if (rdb::IsValkeyHash2(type, flavour)) {
        co_return co_await SkipStringTuples(c, 2, FieldTtl::kFixedAfter);
      }
      co_return co_await SkipStringTuples(c, 2, FieldTtl::kLenBefore);
    case rdb::kTypeHashMetadata:
      CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, nullptr));  // minExpire
      co_return co_await SkipStringTuples(c, 2, FieldTtl::kLenBefore);
    case rdb::kTypeHashListpackEx:
      CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, nullptr));  // minExpire
      co_return co_await c.SkipString();
    default:
      co_return c.Corrupt(absl::StrFormat("unknown value type %d", type));
  }
}

}  // namespace reshard::engine
