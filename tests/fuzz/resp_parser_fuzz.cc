// libFuzzer target for RespParser: whatever the bytes, the parser never
// crashes, every kOk command's views lie inside the input, its wire bytes
// start the input, and parsing the same bytes split in two gives the same
// commands as parsing them whole.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/resp/resp_parser.h"

namespace {

using reshard::engine::ParseResult;
using reshard::engine::RespCommand;
using reshard::engine::RespParser;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  bool error = false;
  std::string message;
};

void CheckInside(std::string_view in, const RespCommand& cmd, size_t consumed) {
  if (cmd.wire.data() != in.data() || cmd.wire.size() != consumed) __builtin_trap();
  for (std::string_view a : cmd.args) {
    if (a.data() < in.data() || a.data() + a.size() > in.data() + consumed) __builtin_trap();
  }
}

// Parses `in` delivered as in[0, cut) then the rest.
Outcome ParseInTwo(std::string_view in, size_t cut) {
  RespParser parser(RespParser::Limits{.max_args = 64, .max_bulk = 1024});
  Outcome o;
  std::string buffer;
  RespCommand cmd;
  for (std::string_view chunk : {in.substr(0, cut), in.substr(cut)}) {
    buffer.append(chunk);
    for (;;) {
      size_t consumed = 0;
      ParseResult r = parser.Parse(buffer, &consumed, &cmd);
      if (r == ParseResult::kError) {
        o.error = true;
        o.message = parser.error();
        return o;
      }
      if (r == ParseResult::kNeedMore) {
        if (consumed != 0) __builtin_trap();
        break;
      }
      if (consumed == 0) __builtin_trap();  // progress, always
      CheckInside(buffer, cmd, consumed);
      o.commands.emplace_back(cmd.args.begin(), cmd.args.end());
      buffer.erase(0, consumed);
    }
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Outcome whole = ParseInTwo(in, size);
  Outcome split = ParseInTwo(in, size / 2);
  if (whole.commands != split.commands) __builtin_trap();
  if (whole.error != split.error || whole.message != split.message) __builtin_trap();
  return 0;
}
