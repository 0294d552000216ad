#include "engine/rdb/rdb_reader.h"

#include <climits>
#include <exception>
#include <utility>

#include "absl/strings/str_format.h"
#include "asio/co_spawn.hpp"
#include "asio/io_context.hpp"
#include "engine/base/status_macros.h"
#include "engine/rdb/rdb_cursor.h"
#include "engine/rdb/rdb_value_layout.h"

namespace reshard::engine {
namespace {

// The prefix opcodes an entry may start with, before its type byte.
bool IsKeyPrefixOpcode(uint8_t op, const rdb::RdbMagic& magic) {
  return op == rdb::kOpExpireTimeMs || op == rdb::kOpExpireTime || op == rdb::kOpIdle ||
         op == rdb::kOpFreq || rdb::IsKeyMeta(op, magic);
}

}  // namespace

RdbReader::RdbReader(ByteSource* src, RdbHandler* handler) : RdbReader(src, handler, Limits{}) {}

RdbReader::RdbReader(ByteSource* src, RdbHandler* handler, Limits limits)
    : src_(src), handler_(handler), limits_(limits) {}

RdbReader::~RdbReader() = default;

uint64_t RdbReader::offset() const { return cursor_ == nullptr ? 0 : cursor_->offset(); }

asio::awaitable<absl::Status> RdbReader::ReadHeader() {
  RdbCursor& c = *cursor_;
  c.SetContext("header");
  c.StartMode(RdbCursor::Mode::kDiscard);
  CO_RETURN_IF_ERROR(co_await c.ReadFixed(rdb::kMagicSize, nullptr));
  std::string_view magic = c.LastParsed(rdb::kMagicSize);
  absl::StatusOr<rdb::RdbMagic> parsed = rdb::ParseRdbMagic(magic);
  if (!parsed.ok()) {
    // An unsupported version is no corruption: said as is, without an offset.
    if (parsed.status().code() != absl::StatusCode::kDataLoss) co_return parsed.status();
    c.Unread(rdb::kMagicSize);
    absl::string_view problem = parsed.status().message();
    co_return c.Corrupt(std::string_view(problem.data(), problem.size()));
  }
  magic_ = *parsed;
  c.Flush();
  handler_->OnHeader(magic_.version, magic);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadEntry(uint8_t first) {
  RdbCursor& c = *cursor_;
  c.StartMode(RdbCursor::Mode::kCollect);
  c.SetContext("key prefix");
  int64_t expire_ms = -1;
  uint8_t b = first;
  while (!rdb::IsKnownTypeIn(b, magic_)) {
    uint64_t v = 0;
    if (b == rdb::kOpExpireTimeMs) {
      CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, &v));
      expire_ms = static_cast<int64_t>(v);
    } else if (b == rdb::kOpExpireTime) {
      CO_RETURN_IF_ERROR(co_await c.ReadFixed(4, &v));
      expire_ms = static_cast<int64_t>(static_cast<int32_t>(v)) * 1000;
    } else if (b == rdb::kOpIdle) {
      CO_RETURN_IF_ERROR(co_await c.ReadLen(&v));
    } else if (b == rdb::kOpFreq) {
      CO_RETURN_IF_ERROR(co_await c.ReadFixed(1, nullptr));
    } else if (rdb::IsKeyMeta(b, magic_)) {
      uint64_t classes = 0;
      CO_RETURN_IF_ERROR(co_await c.ReadCount(&classes));
      if (classes > rdb::kMaxKeyMetaClasses) {
        co_return c.Corrupt(absl::StrFormat("KEY_META with %d classes", classes));
      }
      for (uint64_t i = 0; i < classes; ++i) {
        CO_RETURN_IF_ERROR(co_await c.ReadFixed(4, nullptr));  // class spec
        CO_RETURN_IF_ERROR(co_await SkipRdbModuleValue(c));
      }
    } else {
      c.Unread(1);
      co_return c.Corrupt(absl::StrFormat("unknown type %d after key prefix opcodes", b));
    }
    CO_RETURN_IF_ERROR(co_await c.ReadByte(&b));
  }
  c.SetKeyContext(b);
  key_.clear();
  // Keys and small values are usually wholly buffered: they are parsed here
  // without the cost of a coroutine frame.
  ParseResult r = c.TryReadString(&key_, limits_.max_key);
  if (r == ParseResult::kError) co_return c.status();
  if (r == ParseResult::kNeedMore) {
    CO_RETURN_IF_ERROR(co_await c.ReadString(&key_, limits_.max_key));
  }
  c.Flush();
  RdbEntry entry;
  entry.db = db_;
  entry.key = key_;
  entry.type = b;
  entry.expire_ms = expire_ms;
  entry.raw_header = c.collected();
  bool wanted = handler_->OnEntryBegin(entry);
  c.StartMode(RdbCursor::Mode::kValue, wanted);
  c.SetValueContext(key_, b);
  r = rdb::IsSingleStringType(b) ? c.TrySkipString() : ParseResult::kNeedMore;
  if (r == ParseResult::kError) co_return c.status();
  if (r == ParseResult::kNeedMore) CO_RETURN_IF_ERROR(co_await SkipRdbValue(c, b, magic_.flavour));
  c.Flush();
  c.StartMode(RdbCursor::Mode::kDiscard);
  c.SetContext("opcode");
  handler_->OnEntryEnd();
  ++keys_read_;
  if (handler_->Backlogged()) CO_RETURN_IF_ERROR(co_await handler_->WaitWritable());
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadAux() {
  RdbCursor& c = *cursor_;
  c.StartMode(RdbCursor::Mode::kCollect);
  c.SetContext("aux field name");
  CO_RETURN_IF_ERROR(co_await c.ReadString(&key_, limits_.max_key));
  c.SetContext("aux field value");
  CO_RETURN_IF_ERROR(co_await c.ReadString(&aux_value_, limits_.max_string));
  c.Flush();
  handler_->OnAux(key_, aux_value_, c.collected());
  key_.clear();
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadGlobal(uint8_t op) {
  RdbCursor& c = *cursor_;
  c.StartMode(RdbCursor::Mode::kCollect);
  uint64_t a = 0, b = 0;
  if (op == rdb::kOpModuleAux) {
    c.SetContext("MODULE_AUX");
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&a));  // module id
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&b));  // "when" opcode
    if (b != rdb::kModuleOpUint) {
      co_return c.Corrupt(absl::StrFormat("MODULE_AUX 'when' opcode %d, expected 2", b));
    }
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&a));  // when
    CO_RETURN_IF_ERROR(co_await SkipRdbModuleValue(c));
  } else if (op == rdb::kOpFunction2) {
    c.SetContext("FUNCTION2");
    CO_RETURN_IF_ERROR(co_await c.SkipString());
  } else if (op == rdb::kOpFunctionPreGa) {
    c.SetContext("FUNCTION (7.0-rc)");
    CO_RETURN_IF_ERROR(co_await c.SkipString());  // name
    CO_RETURN_IF_ERROR(co_await c.SkipString());  // engine
    CO_RETURN_IF_ERROR(co_await c.ReadLen(&a));   // has a description
    if (a != 0) CO_RETURN_IF_ERROR(co_await c.SkipString());
    CO_RETURN_IF_ERROR(co_await c.SkipString());  // code
  } else {                                        // rdb::IsSlotImport(op, ...)
    c.SetContext("SLOT_IMPORT");
    CO_RETURN_IF_ERROR(co_await c.SkipString());  // job name
    uint64_t ranges = 0;
    CO_RETURN_IF_ERROR(co_await c.ReadCount(&ranges));
    for (uint64_t i = 0; i < ranges; ++i) {
      CO_RETURN_IF_ERROR(co_await c.ReadLen(&a));
      CO_RETURN_IF_ERROR(co_await c.ReadLen(&b));
    }
  }
  c.Flush();
  handler_->OnGlobal(op, c.collected());
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::ReadChecksum() {
  RdbCursor& c = *cursor_;
  if (magic_.version < rdb::kFirstVersionWithChecksum) {
    c.ConsumeAll();
    handler_->OnEnd();
    co_return absl::OkStatus();
  }
  c.SetContext("CRC64 trailer");
  c.StopCrc();  // crc() now covers everything before the trailer
  uint64_t stored = 0;
  CO_RETURN_IF_ERROR(co_await c.ReadFixed(8, &stored));
  // 0 means the writer had rdbchecksum off.
  if (stored != 0 && stored != c.crc()) {
    c.Unread(8);
    co_return c.Corrupt(absl::StrFormat("CRC64 mismatch: trailer says %016x, data hashes to %016x",
                                        stored, c.crc()));
  }
  c.ConsumeAll();
  handler_->OnEnd();
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RdbReader::Run() {
  cursor_ = std::make_unique<RdbCursor>(src_, handler_, limits_);
  RdbCursor& c = *cursor_;
  CO_RETURN_IF_ERROR(co_await ReadHeader());
  for (;;) {
    c.Flush();
    c.StartMode(RdbCursor::Mode::kDiscard);
    c.SetContext("opcode");
    uint8_t op = 0;
    if (c.TryByte(&op) != ParseResult::kOk) CO_RETURN_IF_ERROR(co_await c.ReadByte(&op));
    uint64_t a = 0, b = 0, ignored = 0;
    switch (op) {
      case rdb::kOpEof:
        c.Flush();
        co_return co_await ReadChecksum();
      case rdb::kOpSelectDb:
        c.SetContext("SELECTDB");
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&a));
        if (a > INT_MAX) co_return c.Corrupt(absl::StrFormat("db number %d out of range", a));
        db_ = static_cast<int>(a);
        c.Flush();
        handler_->OnSelectDb(db_);
        break;
      case rdb::kOpResizeDb:
        c.SetContext("RESIZEDB");
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&a));
        CO_RETURN_IF_ERROR(co_await c.ReadLen(&b));
        handler_->OnResizeDb(db_, a, b);
        break;
      case rdb::kOpSlotInfo:
        c.SetContext("SLOT_INFO");
        for (int i = 0; i < 3; ++i) CO_RETURN_IF_ERROR(co_await c.ReadLen(&ignored));
        break;
      case rdb::kOpAux:
        CO_RETURN_IF_ERROR(co_await ReadAux());
        break;
      case rdb::kOpModuleAux:
      case rdb::kOpFunction2:
      case rdb::kOpFunctionPreGa:
        CO_RETURN_IF_ERROR(co_await ReadGlobal(op));
        break;
      default:
        if (rdb::IsSlotImport(op, magic_.flavour)) {
          CO_RETURN_IF_ERROR(co_await ReadGlobal(op));
        } else if (IsKeyPrefixOpcode(op, magic_) || rdb::IsKnownTypeIn(op, magic_)) {
          CO_RETURN_IF_ERROR(co_await ReadEntry(op));
        } else {
          c.Unread(1);
          co_return c.Corrupt(absl::StrFormat("unknown type or opcode %d", op));
        }
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
