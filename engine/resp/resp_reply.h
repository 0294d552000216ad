#pragma once

// RespValue and RespReplyParser: the client side of RESP2/RESP3 — replies that
// reshardd reads from servers it talks to (handshake replies to PING, AUTH,
// REPLCONF and PSYNC; COMMAND; MULTI/EXEC replies carrying DUMP/PTTL).
// The server side (commands from clients) lives in resp_parser.h.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/parse_result.h"

namespace reshard::engine {

// One reply. Which fields are meaningful depends on `type`:
//   kSimpleString, kError, kBulkString: `str` (kError also for RESP3 '!' bulk errors)
//   kVerbatim:   `str` is the text without its 3-letter format and ':'
//   kDouble:     `str` is the text as sent ("3.14", "inf", "-inf", "nan")
//   kBigNumber:  `str` is the digits as sent (with a leading '-' if negative)
//   kInteger:    `integer`;  kBoolean: `integer` is 1 (#t) or 0 (#f)
//   kNull:       nothing (RESP2 "$-1" and "*-1", RESP3 "_")
//   kArray, kSet, kPush: `elements`
//   kMap:        `elements` holds key0, value0, key1, value1, ...
// RESP3 attributes ('|') are parsed and dropped. An error's `str` has the
// arguments a server echoes redacted (engine/resp/reply_redaction.h).
struct RespValue {
  enum class Type {
    kSimpleString,
    kError,
    kInteger,
    kBulkString,
    kNull,
    kArray,
    kMap,
    kSet,
    kDouble,
    kBoolean,
    kVerbatim,
    kBigNumber,
    kPush,
  };

  Type type = Type::kNull;
  std::string str;
  int64_t integer = 0;
  std::vector<RespValue> elements;

  static RespValue SimpleString(std::string s);
  static RespValue Error(std::string s);
  static RespValue Integer(int64_t n);
  static RespValue BulkString(std::string s);
  static RespValue Null();
  static RespValue Array(std::vector<RespValue> elements);

  bool IsError() const { return type == Type::kError; }
  // True for a simple or bulk string equal to `s` (e.g. IsString("OK")).
  bool IsString(std::string_view s) const;

  // One-line, printable form for messages and test output: +OK, -ERR x, :5,
  // "bulk\x00" (escaped; long strings cut with their size), (nil),
  // [a, b], {k: v}, ~[..], >[..], ,3.14, #t, (123. Never contains a password
  // unless the reply did.
  std::string ToString() const;

  friend bool operator==(const RespValue&, const RespValue&) = default;
};

std::string_view RespTypeName(RespValue::Type type);

// Push-style parser for one reply at a time.
//
// Parse(in, &consumed, &out):
//   kOk       one whole reply was at the front of `in`; *out holds it and
//             *consumed is its size in bytes. Bytes after it are untouched.
//   kNeedMore `in` holds an incomplete reply; nothing consumed (*consumed = 0)
//             and *out unchanged. Call again with the same bytes plus more.
//   kError    malformed or over a limit; error() says at which byte offset of
//             `in` and what was being read (engine/base/parse_error.h), e.g.
//             "reply offset 1: bulk string length: not a number 'x1'".
//             *consumed = 0. The stream cannot be resynchronised.
// After kNeedMore the parser remembers how many bytes it needs at least (the
// end of an announced bulk payload), so feeding a large payload in small
// chunks costs O(1) per call until it is complete. Call Reset() before
// parsing input that does not start with the same bytes.
class RespReplyParser {
 public:
  // Input over a limit is an error (engine/base/parse_result.h has the naming).
  struct Limits {
    size_t max_depth = 32;            // nested aggregates (top-level array = 1)
    size_t max_bulk = 512u << 20;     // bytes of one bulk/verbatim/bulk-error payload
    size_t max_elements = 16u << 20;  // elements of one aggregate (a map counts 2 per entry)
    size_t max_line = 64u << 10;      // bytes of one simple string/error/number line
  };

  RespReplyParser();
  explicit RespReplyParser(Limits limits);

  ParseResult Parse(std::string_view in, size_t* consumed, RespValue* out);
  const std::string& error() const { return error_; }
  void Reset();

 private:
  // Reads one value at in[*pos]. With out == nullptr only checks that it is
  // complete and valid; otherwise fills *out (input already known valid).
  ParseResult Walk(std::string_view in, size_t* pos, size_t depth, RespValue* out);
  ParseResult ReadLine(std::string_view in, size_t start, const char* what, std::string_view* line,
                       size_t* next);
  ParseResult ReadLength(std::string_view in, size_t* pos, const char* what, int64_t* length);
  ParseResult Fail(size_t offset, const char* what, std::string_view problem);

  Limits limits_;
  std::string error_;
  size_t need_at_least_ = 0;
};

// The reply parser's result before the parsers shared one; engine/link and
// tests/support still spell it so. New code says ParseResult.

}  // namespace reshard::engine
