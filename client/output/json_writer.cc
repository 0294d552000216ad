#include "client/output/json_writer.h"

#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"

namespace reshard::client {

std::string MessageToJson(const google::protobuf::Message& message, bool multi_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = multi_line;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::string JsonString(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (container_empty_.empty()) return;
  if (!container_empty_.back()) json_.push_back(',');
  container_empty_.back() = false;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  json_ += JsonString(key);
  json_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  json_ += JsonString(value);
  return *this;
}

JsonWriter& JsonWriter::Open(char bracket) {
  BeforeValue();
  json_.push_back(bracket);
  container_empty_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  json_.push_back(bracket);
  container_empty_.pop_back();
  return *this;
}

}  // namespace reshard::client
