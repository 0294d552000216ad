#pragma once

// The one parse vocabulary of the engine's three parsers: the RESP command
// parser (engine/resp/resp_parser.h), the reply parser
// (engine/resp/resp_reply.h) and the RDB reader's field steps
// (engine/rdb/rdb_cursor.h).
//
// Push-style parsers (STYLE.md #7) share one call shape:
//   ParseResult Parse(std::string_view in, size_t* consumed, T* out);
// and take their limits as a nested `Limits` struct in their constructor.
// Limit members are named `max_<what>`: a singular <what> bounds the size in
// bytes of one such item (max_bulk, max_line, max_key, max_string), a plural
// one bounds a count (max_args, max_elements); each member's comment gives
// its unit. Errors read "<what> offset N: <detail>" (engine/base/parse_error.h).

namespace reshard::engine {

enum class ParseResult {
  kOk,        // one item parsed; the input consumed by it is reported
  kNeedMore,  // the input ends inside the item; nothing consumed
  kError,     // malformed or over a limit; the parser says what and where
};

}  // namespace reshard::engine
