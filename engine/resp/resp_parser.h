#pragma once

// RespParser splits a replication stream into commands, push-style: the
// caller hands it the unconsumed bytes it has and gets back one command at a
// time (STYLE.md #7).
//
// The stream a master sends its replicas is RESP arrays of bulk strings only.
// The one exception is a bare "\n" (or "\r\n") keepalive, which is returned as
// an empty command (args empty). Inline commands, nulls and other RESP types
// are errors: nothing after a parse error can be trusted.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/parse_result.h"

namespace reshard::engine {

// One command. Every view points into the `in` passed to the Parse() call that
// returned kOk, and is valid until the caller drops or moves those bytes.
struct RespCommand {
  std::vector<std::string_view> args;  // args[0] is the name; empty = keepalive
  std::string_view wire;               // the command's exact bytes on the wire
};

class RespParser {
 public:
  // Input over a limit is an error (engine/base/parse_result.h has the naming).
  struct Limits {
    size_t max_args = 1 << 20;    // elements in one array
    size_t max_bulk = 512 << 20;  // bytes in one bulk string
  };

  RespParser();
  explicit RespParser(Limits limits);

  // Parses exactly one command from the front of `in`.
  //  kOk:       *consumed = the command's length; *out is filled (views into `in`).
  //  kNeedMore: *consumed = 0; call again with the same bytes and more appended
  //             (the parser resumes where it stopped, so a big command arriving
  //             in pieces is not rescanned).
  //  kError:    *consumed = 0; error() says what and where; every later call
  //             returns kError too.
  // Precondition: `in` starts at the first byte not consumed so far.
  ParseResult Parse(std::string_view in, size_t* consumed, RespCommand* out);

  // "resp offset 13: argument 2 of 2: expected '$', got 'x'"
  // (engine/base/parse_error.h); the offset counts from the first byte this
  // parser ever saw (or from the last Reset()).
  const std::string& error() const { return error_; }

  // Bytes consumed by kOk results so far.
  uint64_t offset() const { return offset_; }

  // Forgets any partial command and error; the next byte is at `offset`.
  void Reset(uint64_t offset = 0);

 private:
  struct ArgPos {
    size_t begin;
    size_t size;
  };

  ParseResult Fail(size_t pos, std::string what);
  // Reads "<digits>\r\n" starting at `pos` (just after a type byte) of the
  // array header (arg 0) or of argument `arg` (1-based).
  ParseResult ParseLength(std::string_view in, size_t pos, size_t arg, int64_t* value,
                          size_t* next);
  // "argument 2 of 3: " for error messages ("" for the array header).
  std::string ArgContext(size_t arg) const;

  Limits limits_;
  uint64_t offset_ = 0;
  std::string error_;
  bool failed_ = false;

  // Resume state of a command that needed more bytes.
  bool in_array_ = false;
  size_t pos_ = 0;        // next byte to read, relative to the command's start
  int64_t expected_ = 0;  // array length
  std::vector<ArgPos> args_;
};

}  // namespace reshard::engine
