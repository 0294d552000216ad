#pragma once

// RdbMemoryReader: the RDB's primitive fields (lengths, strings with their
// integer and LZF encodings, fixed-width little-endian integers) read in
// order from bytes already in memory, e.g. the library code of a FUNCTION2
// record, or the value bytes of one entry being rebuilt as commands. Errors
// are DATA_LOSS "rdb offset N: <what>: <problem>", N counted from the start
// of the bytes given.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/string_byte_source.h"
#include "engine/rdb/rdb_cursor.h"

namespace reshard::engine {

class RdbMemoryReader {
 public:
  // `what` names the bytes in errors ("FUNCTION2", "value of 'k'").
  RdbMemoryReader(std::string bytes, std::string what);
  RdbMemoryReader(const RdbMemoryReader&) = delete;
  RdbMemoryReader& operator=(const RdbMemoryReader&) = delete;

  absl::Status ReadLen(uint64_t* len);
  // Decoded: integers as decimal, LZF expanded.
  absl::Status ReadString(std::string* out);
  // n bytes, the first min(n, 8) as a little-endian integer.
  absl::Status ReadFixed(size_t n, uint64_t* le_value);
  // Whether every byte has been read.
  bool AtEnd() const { return cursor_.offset() == size_; }

 private:
  // A handler that wants no entry: the cursor never hands it value bytes.
  class NoEntries : public RdbHandler {
   public:
    void OnHeader(int, std::string_view) override {}
    void OnAux(std::string_view, std::string_view, std::string_view) override {}
    void OnGlobal(uint8_t, std::string_view) override {}
    void OnSelectDb(int) override {}
    bool OnEntryBegin(const RdbEntry&) override { return false; }
    void OnValueChunk(std::string_view) override {}
    void OnEntryEnd() override {}
    void OnEnd() override {}
  };
  absl::Status Check(ParseResult result, const char* field);

  const uint64_t size_;
  std::string what_;
  StringByteSource source_;
  NoEntries handler_;
  RdbCursor cursor_;
};

// The string field at the start of `encoded` (bytes after it are ignored).
absl::StatusOr<std::string> DecodeRdbString(std::string_view encoded);

}  // namespace reshard::engine
