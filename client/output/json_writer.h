#pragma once

// reshardctl's JSON output, for the RPC commands and `reshardctl rdb`:
//  - MessageToJson: an API message in the protobuf JSON mapping;
//  - JsonWriter: the compact JSON of everything else (the rdb reports).

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"

namespace reshard::client {

// The protobuf JSON mapping of `message` with the .proto field names and every
// field printed (zero counters too). `multi_line`: indented; else one line.
std::string MessageToJson(const google::protobuf::Message& message, bool multi_line);

// A JSON string literal. Every byte outside printable ASCII becomes \u00XX, so
// binary keys survive as one code point per byte.
std::string JsonString(std::string_view bytes);

// Builds one compact JSON value (no whitespace), placing the commas. Calls must
// nest properly: Key() only directly inside an object, each followed by one
// value; the text is complete once every Begin* has its End*.
class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  template <std::integral Int>
  JsonWriter& Number(Int value) {
    BeforeValue();
    absl::StrAppend(&json_, value);
    return *this;
  }

  const std::string& json() const { return json_; }

 private:
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);
  // Writes the comma a value needs in its container.
  void BeforeValue();

  std::string json_;
  std::vector<bool> container_empty_;  // one per open object or array
  bool after_key_ = false;
};

}  // namespace reshard::client
