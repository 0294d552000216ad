#pragma once

// RdbHandler: what RdbReader emits, synchronously and in file order, while it
// reads one RDB. Every string_view argument is valid only during the call.
//
//   OnHeader, then any mix of OnAux / OnGlobal / OnSelectDb / entries, then
//   OnEnd (only if the whole input, including its CRC64, verified).
//   An entry is OnEntryBegin, zero or more OnValueChunk (only if OnEntryBegin
//   returned true), OnEntryEnd.

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"

namespace reshard::engine {

// One key of the snapshot, as seen before its value.
struct RdbEntry {
  int db = 0;              // from the last SELECTDB (0 if none yet)
  std::string_view key;    // decoded (integer and LZF encodings expanded)
  uint8_t type = 0;        // rdb::kType* byte
  int64_t expire_ms = -1;  // absolute unix ms from EXPIRETIME(_MS); -1 if none
  // The entry's bytes up to its value, verbatim: the prefix opcodes
  // (EXPIRETIME[_MS], IDLE, FREQ, KEY_META), the type byte and the encoded key.
  // Writing raw_header followed by the value chunks re-creates the entry.
  std::string_view raw_header;
};

class RdbHandler {
 public:
  virtual ~RdbHandler() = default;

  // magic is the 9-byte header ("REDIS0011", "VALKEY080").
  virtual void OnHeader(int version, std::string_view magic) = 0;
  // An AUX field; raw is its encoding including the opcode.
  virtual void OnAux(std::string_view key, std::string_view value, std::string_view raw) = 0;
  // A dataset-wide record copied to every target: MODULE_AUX, FUNCTION2,
  // FUNCTION (7.0-rc) and Valkey's SLOT_IMPORT. raw includes the opcode.
  virtual void OnGlobal(uint8_t opcode, std::string_view raw) = 0;
  virtual void OnSelectDb(int db) = 0;
  // RESIZEDB: the source's key and expire counts of `db` (a sizing hint).
  virtual void OnResizeDb(int db, uint64_t db_size, uint64_t expires_size) {}
  // Returns whether the value bytes are wanted (OnValueChunk calls follow).
  virtual bool OnEntryBegin(const RdbEntry& entry) = 0;
  // Raw value bytes, in order; their concatenation is the whole value.
  virtual void OnValueChunk(std::string_view chunk) = 0;
  virtual void OnEntryEnd() = 0;
  // The input ended with a verified checksum (or none: RDB < 5, or 0 stored).
  virtual void OnEnd() = 0;

  // Flow control, as RdbSink's: between entries and between value chunks the
  // reader asks Backlogged() and, if true, co_awaits WaitWritable(); an error
  // aborts the read with that error.
  virtual bool Backlogged() const { return false; }
  virtual asio::awaitable<absl::Status> WaitWritable() { co_return absl::OkStatus(); }
};

}  // namespace reshard::engine
