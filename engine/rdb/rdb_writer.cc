#include "engine/rdb/rdb_writer.h"

#include "engine/rdb/crc64.h"
#include "engine/rdb/rdb_format.h"

namespace reshard::engine {

std::string RdbWriter::EncodeLength(uint64_t n) {
  std::string out;
  if (n < (1u << 6)) {
    out.push_back(static_cast<char>(n));
  } else if (n < (1u << 14)) {
    out.push_back(static_cast<char>((rdb::kLen14Bit << 6) | (n >> 8)));
    out.push_back(static_cast<char>(n & 0xff));
  } else if (n <= 0xffffffffULL) {
    out.push_back(static_cast<char>(rdb::kLen32Bit));
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  } else {
    out.push_back(static_cast<char>(rdb::kLen64Bit));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  return out;
}

// Buffered bytes are hashed when they leave the buffer: one CRC64 call per
// ~64 KB instead of one per piece (entry headers are ~10-20 bytes).
void RdbWriter::Emit(std::string_view data) {
  bytes_written_ += data.size();
  if (data.size() >= kBufferSize) {
    FlushBuffer();
    crc_ = Crc64(crc_, data);
    sink_->Write(data);
    return;
  }
  buffer_.append(data);
  if (buffer_.size() >= kBufferSize) FlushBuffer();
}

void RdbWriter::FlushBuffer() {
  if (buffer_.empty()) return;
  crc_ = Crc64(crc_, buffer_);
  sink_->Write(buffer_);
  buffer_.clear();
}

void RdbWriter::WriteHeader(int version, std::string_view magic) {
  version_ = version;
  Emit(magic);
}

bool RdbWriter::WriteAux(std::string_view key, std::string_view raw) {
  if (key == "repl-id" || key == "repl-offset" || key == "repl-stream-db") return false;
  Emit(raw);
  return true;
}

bool RdbWriter::WriteGlobal(uint8_t opcode, std::string_view raw) {
  if (opcode == rdb::kOpSlotImport && version_ == rdb::kValkeyVersion) return false;
  Emit(raw);
  return true;
}

void RdbWriter::SetResizeHint(int db, uint64_t db_size, uint64_t expires_size) {
  hint_db_ = db;
  hint_size_ = db_size;
  hint_expires_ = expires_size;
}

void RdbWriter::BeginEntry(int db, std::string_view raw_header) {
  if (db != current_db_) {
    std::string select(1, static_cast<char>(rdb::kOpSelectDb));
    select += EncodeLength(static_cast<uint64_t>(db));
    if (db == hint_db_ && version_ >= rdb::kFirstVersionWithResizeDb) {
      select += static_cast<char>(rdb::kOpResizeDb);
      select += EncodeLength(hint_size_);
      select += EncodeLength(hint_expires_);
    }
    Emit(select);
    current_db_ = db;
  }
  Emit(raw_header);
  ++entries_written_;
}

void RdbWriter::WriteValue(std::string_view chunk) { Emit(chunk); }

void RdbWriter::Finish() {
  if (finished_) return;
  char eof = static_cast<char>(rdb::kOpEof);
  Emit(std::string_view(&eof, 1));
  if (version_ >= rdb::kFirstVersionWithChecksum) {
    // The trailer covers everything before it, still partly in buffer_.
    uint64_t crc = Crc64(crc_, buffer_);
    char trailer[8];
    for (int i = 0; i < 8; ++i) trailer[i] = static_cast<char>(crc >> (8 * i));
    Emit(std::string_view(trailer, 8));
  }
  FlushBuffer();
  finished_ = true;
}

}  // namespace reshard::engine
