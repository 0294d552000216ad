#pragma once

// RdbWriter: writes one valid RDB to an RdbSink, from pieces an RdbReader saw:
// the same magic/version as the input, aux fields (minus the source's
// replication identity), dataset-wide records, and whole entries copied as
// raw bytes. It computes its own CRC64 and writes SELECTDB lazily, before the
// first entry of each db, so a target whose keys all live in db 0 gets no
// SELECTDB for the other dbs. RESIZEDB is written with the hint the splitter
// gives it (see SetResizeHint); SLOT_INFO hints are not written.
//
// Small pieces are gathered into a buffer of about kBufferSize before they
// reach the sink; Finish() (or FlushBuffer()) hands over the rest.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/rdb/rdb_sink.h"

namespace reshard::engine {

class RdbWriter {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;

  // sink is not owned and must outlive the writer.
  explicit RdbWriter(RdbSink* sink) : sink_(sink) {}

  // magic is the input's 9-byte header; version its number.
  void WriteHeader(int version, std::string_view magic);
  // raw is the AUX record as read (opcode included). Skips repl-id,
  // repl-offset and repl-stream-db: they describe the source's replication
  // state, not the target's. Returns whether the field was written.
  bool WriteAux(std::string_view key, std::string_view raw);
  // raw is the whole record, opcode included. Valkey's SLOT_IMPORT (the
  // source node's in-flight slot migrations) is dropped; the rest is copied.
  bool WriteGlobal(uint8_t opcode, std::string_view raw);
  // Starts an entry: SELECTDB if db differs from the last one written, then
  // raw_header (prefix opcodes, type, key). Value bytes follow via WriteValue.
  // A RESIZEDB hint for `db`, written after its SELECTDB (RDB >= 7) so that
  // the loader sizes its hash tables once instead of rehashing as it grows.
  void SetResizeHint(int db, uint64_t db_size, uint64_t expires_size);
  void BeginEntry(int db, std::string_view raw_header);
  void WriteValue(std::string_view chunk);
  // Writes EOF (and, for RDB >= 5, the CRC64 trailer) and flushes the buffer.
  void Finish();
  // Hands buffered bytes to the sink now.
  void FlushBuffer();

  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t entries_written() const { return entries_written_; }
  bool finished() const { return finished_; }

  // The RDB length encoding of n (1, 2, 5 or 9 bytes).
  static std::string EncodeLength(uint64_t n);

 private:
  void Emit(std::string_view data);

  RdbSink* sink_;
  std::string buffer_;
  uint64_t crc_ = 0;  // of every byte handed to the sink (not of buffer_)
  uint64_t bytes_written_ = 0;
  uint64_t entries_written_ = 0;
  int version_ = 0;
  int current_db_ = -1;
  int hint_db_ = -1;  // the db the pending RESIZEDB hint is for
  uint64_t hint_size_ = 0;
  uint64_t hint_expires_ = 0;
  bool finished_ = false;
};

}  // namespace reshard::engine
