#include "engine/rdb/rdb_memory_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

RdbMemoryReader::RdbMemoryReader(std::string bytes, std::string what)
    : size_(bytes.size()),
      what_(std::move(what)),
      source_(std::move(bytes)),
      cursor_(&source_, &handler_, RdbReader::Limits{}) {
  cursor_.SetContext(what_.c_str());
}

absl::Status RdbMemoryReader::Check(ParseResult result, const char* field) {
  switch (result) {
    case ParseResult::kOk:
      return absl::OkStatus();
    case ParseResult::kNeedMore:
      return absl::DataLossError(absl::StrCat("rdb offset ", cursor_.offset(), ": ", what_,
                                              ": truncated inside a ", field, " (", size_,
                                              " bytes)"));
    case ParseResult::kError:
      break;
  }
  return cursor_.status();
}

absl::Status RdbMemoryReader::ReadLen(uint64_t* len) {
  return Check(cursor_.TryLen(len), "length");
}

absl::Status RdbMemoryReader::ReadString(std::string* out) {
  return Check(cursor_.TryReadString(out, RdbReader::Limits{}.max_string), "string");
}

absl::Status RdbMemoryReader::ReadFixed(size_t n, uint64_t* le_value) {
  return Check(cursor_.TryFixed(n, le_value), "fixed-width field");
}

absl::StatusOr<std::string> DecodeRdbString(std::string_view encoded) {
  RdbMemoryReader reader{std::string(encoded), "string"};
  std::string out;
  if (absl::Status read = reader.ReadString(&out); !read.ok()) return read;
  return out;
}

}  // namespace reshard::engine
