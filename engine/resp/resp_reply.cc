#include "engine/resp/resp_reply.h"

#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/base/parse_error.h"
#include "engine/resp/reply_redaction.h"

namespace reshard::engine {
namespace {

constexpr size_t kMaxShownBytes = 128;

std::string S(std::string_view text) { return std::string(text); }

std::string Escaped(std::string_view text) {
  return absl::CHexEscape(absl::string_view(text.data(), text.size()));
}

// Strict decimal: optional '-', then digits only, no overflow.
bool ParseStrictInt64(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  const bool negative = text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) return false;
  uint64_t magnitude = 0;
  const uint64_t limit =
      negative ? uint64_t{1} << 63 : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (const char ch : text) {
    if (ch < '0' || ch > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (magnitude > (limit - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  *value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

bool IsBigNumber(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

bool IsDouble(std::string_view text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  double ignored = 0;
  return absl::SimpleAtod(absl::string_view(text.data(), text.size()), &ignored);
}

void AppendElements(const std::vector<RespValue>& elements, std::string_view open,
                    std::string_view close, std::string* out) {
  out->append(open);
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out->append(", ");
    out->append(elements[i].ToString());
  }
  out->append(close);
}

}  // namespace

RespValue RespValue::SimpleString(std::string s) {
  RespValue v;
  v.type = Type::kSimpleString;
  v.str = std::move(s);
  return v;
}

RespValue RespValue::Error(std::string s) {
  RespValue v;
  v.type = Type::kError;
  v.str = std::move(s);
  return v;
}

RespValue RespValue::Integer(int64_t n) {
  RespValue v;
  v.type = Type::kInteger;
  v.integer = n;
  return v;
}

RespValue RespValue::BulkString(std::string s) {
  RespValue v;
  v.type = Type::kBulkString;
  v.str = std::move(s);
  return v;
}

RespValue RespValue::Null() { return RespValue(); }

RespValue RespValue::Array(std::vector<RespValue> elements) {
  RespValue v;
  v.type = Type::kArray;
  v.elements = std::move(elements);
  return v;
}

bool RespValue::IsString(std::string_view s) const {
  return (type == Type::kSimpleString || type == Type::kBulkString) && str == s;
}

std::string RespValue::ToString() const {
  switch (type) {
    case Type::kSimpleString:
      return absl::StrCat("+", Escaped(str));
    case Type::kError:
      return absl::StrCat("-", Escaped(str));
    case Type::kInteger:
      return absl::StrCat(":", integer);
    case Type::kBulkString:
    case Type::kVerbatim: {
      if (str.size() <= kMaxShownBytes) return absl::StrCat("\"", Escaped(str), "\"");
      return absl::StrCat("\"", Escaped(std::string_view(str).substr(0, kMaxShownBytes)), "\"...(",
                          str.size(), " bytes)");
    }
    case Type::kNull:
      return "(nil)";
    case Type::kDouble:
      return absl::StrCat(",", str);
    case Type::kBoolean:
      return integer != 0 ? "#t" : "#f";
    case Type::kBigNumber:
      return absl::StrCat("(", str);
    case Type::kArray: {
      std::string out;
      AppendElements(elements, "[", "]", &out);
      return out;
    }
    case Type::kSet: {
      std::string out;
      AppendElements(elements, "~[", "]", &out);
      return out;
    }
    case Type::kPush: {
      std::string out;
      AppendElements(elements, ">[", "]", &out);
      return out;
    }
    case Type::kMap: {
      std::string out = "{";
      for (size_t i = 0; i + 1 < elements.size(); i += 2) {
        if (i > 0) out += ", ";
        absl::StrAppend(&out, elements[i].ToString(), ": ", elements[i + 1].ToString());
      }
      out += "}";
      return out;
    }
  }
  return "(?)";
}

std::string_view RespTypeName(RespValue::Type type) {
  using Type = RespValue::Type;
  switch (type) {
    case Type::kSimpleString:
      return "simple string";
    case Type::kError:
      return "error";
    case Type::kInteger:
      return "integer";
    case Type::kBulkString:
      return "bulk string";
    case Type::kNull:
      return "null";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kSet:
      return "set";
    case Type::kDouble:
      return "double";
    case Type::kBoolean:
      return "boolean";
    case Type::kVerbatim:
      return "verbatim string";
    case Type::kBigNumber:
      return "big number";
    case Type::kPush:
      return "push";
  }
  return "unknown";
}

RespReplyParser::RespReplyParser() : RespReplyParser(Limits{}) {}

RespReplyParser::RespReplyParser(Limits limits) : limits_(limits) {}

void RespReplyParser::Reset() {
  error_.clear();
  need_at_least_ = 0;
}

ParseResult RespReplyParser::Parse(std::string_view in, size_t* consumed, RespValue* out) {
  *consumed = 0;
  if (in.size() < need_at_least_) return ParseResult::kNeedMore;
  need_at_least_ = 0;
  error_.clear();
  size_t end = 0;
  if (ParseResult scan = Walk(in, &end, 0, nullptr); scan != ParseResult::kOk) return scan;
  // The scan proved the reply complete and valid; now build it.
  RespValue value;
  size_t pos = 0;
  Walk(in, &pos, 0, &value);
  *out = std::move(value);
  *consumed = end;
  return ParseResult::kOk;
}

ParseResult RespReplyParser::Fail(size_t offset, const char* what, std::string_view problem) {
  error_ = ParseErrorMessage("reply", offset, absl::StrCat(what, ": ", S(problem)));
  need_at_least_ = 0;
  return ParseResult::kError;
}

ParseResult RespReplyParser::ReadLine(std::string_view in, size_t start, const char* what,
                                      std::string_view* line, size_t* next) {
  const size_t end = in.find_first_of("\r\n", start);
  if (end == std::string_view::npos) {
    if (in.size() - start > limits_.max_line) {
      return Fail(start, what, absl::StrCat("line longer than ", limits_.max_line, " bytes"));
    }
    return ParseResult::kNeedMore;
  }
  if (end - start > limits_.max_line) {
    return Fail(start, what, absl::StrCat("line longer than ", limits_.max_line, " bytes"));
  }
  if (in[end] == '\n') return Fail(end, what, "expected CRLF, got a bare LF");
  if (end + 1 == in.size()) return ParseResult::kNeedMore;
  if (in[end + 1] != '\n') return Fail(end, what, "expected CRLF, got CR without LF");
  *line = in.substr(start, end - start);
  *next = end + 2;
  return ParseResult::kOk;
}

ParseResult RespReplyParser::ReadLength(std::string_view in, size_t* pos, const char* what,
                                        int64_t* length) {
  std::string_view line;
  size_t next = 0;
  if (ParseResult step = ReadLine(in, *pos, what, &line, &next); step != ParseResult::kOk)
    return step;
  if (!ParseStrictInt64(line, length)) {
    return Fail(*pos, what, absl::StrCat("not a number '", Escaped(line), "'"));
  }
  *pos = next;
  return ParseResult::kOk;
}

ParseResult RespReplyParser::Walk(std::string_view in, size_t* pos, size_t depth, RespValue* out) {
  using Type = RespValue::Type;
  if (*pos >= in.size()) return ParseResult::kNeedMore;
  const size_t type_offset = *pos;
  const char marker = in[type_offset];
  const size_t body = type_offset + 1;
  std::string_view line;
  size_t next = 0;
  switch (marker) {
    case '+':
    case '-': {
      const char* what = marker == '+' ? "simple string" : "error";
      if (ParseResult step = ReadLine(in, body, what, &line, &next); step != ParseResult::kOk)
        return step;
      if (out != nullptr) {
        out->type = marker == '+' ? Type::kSimpleString : Type::kError;
        out->str = marker == '+' ? S(line) : RedactEchoedArguments(line);
      }
      *pos = next;
      return ParseResult::kOk;
    }
    case ':': {
      if (ParseResult step = ReadLine(in, body, "integer", &line, &next); step != ParseResult::kOk)
        return step;
      int64_t value = 0;
      if (!ParseStrictInt64(line, &value)) {
        return Fail(body, "integer", absl::StrCat("not a number '", Escaped(line), "'"));
      }
      if (out != nullptr) {
        out->type = Type::kInteger;
        out->integer = value;
      }
      *pos = next;
      return ParseResult::kOk;
    }
    case '_':
    case '#':
    case ',':
    case '(': {
      const char* what = marker == '_'   ? "null"
                         : marker == '#' ? "boolean"
                         : marker == ',' ? "double"
                                         : "big number";
      if (ParseResult step = ReadLine(in, body, what, &line, &next); step != ParseResult::kOk)
        return step;
      const bool valid = marker == '_'   ? line.empty()
                         : marker == '#' ? (line == "t" || line == "f")
                         : marker == ',' ? IsDouble(line)
                                         : IsBigNumber(line);
      if (!valid) return Fail(body, what, absl::StrCat("bad value '", Escaped(line), "'"));
      if (out != nullptr) {
        if (marker == '_') {
          out->type = Type::kNull;
        } else if (marker == '#') {
          out->type = Type::kBoolean;
          out->integer = line == "t" ? 1 : 0;
        } else {
          out->type = marker == ',' ? Type::kDouble : Type::kBigNumber;
          out->str = S(line);
        }
      }
      *pos = next;
      return ParseResult::kOk;
    }
    case '$':
    case '!':
    case '=': {
      const char* what = marker == '$'   ? "bulk string length"
                         : marker == '!' ? "bulk error length"
                                         : "verbatim string length";
      int64_t length = 0;
      next = body;
      if (ParseResult step = ReadLength(in, &next, what, &length); step != ParseResult::kOk)
        return step;
      if (length == -1 && marker == '$') {
        if (out != nullptr) out->type = Type::kNull;
        *pos = next;
        return ParseResult::kOk;
      }
      if (length < 0) return Fail(body, what, absl::StrCat("negative length ", length));
      if (static_cast<uint64_t>(length) > limits_.max_bulk) {
        return Fail(body, what,
                    absl::StrCat(length, " bytes exceed the limit of ", limits_.max_bulk));
      }
      const size_t payload = next;
      const size_t end = payload + static_cast<size_t>(length);
      if (in.size() < end + 2) {
        need_at_least_ = end + 2;
        return ParseResult::kNeedMore;
      }
      const char* payload_what = marker == '$'   ? "bulk string"
                                 : marker == '!' ? "bulk error"
                                                 : "verbatim string";
      if (in[end] != '\r' || in[end + 1] != '\n') {
        return Fail(end, payload_what,
                    absl::StrCat("expected CRLF after the ", length, "-byte payload"));
      }
      std::string_view data = in.substr(payload, static_cast<size_t>(length));
      if (marker == '=') {
        if (data.size() < 4 || data[3] != ':') {
          return Fail(payload, payload_what, "expected a 3-letter format and ':'");
        }
        data.remove_prefix(4);
      }
      if (out != nullptr) {
        out->type = marker == '$'   ? Type::kBulkString
                    : marker == '!' ? Type::kError
                                    : Type::kVerbatim;
        out->str = marker == '!' ? RedactEchoedArguments(data) : S(data);
      }
      *pos = end + 2;
      return ParseResult::kOk;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const char* what = marker == '*'   ? "array length"
                         : marker == '~' ? "set length"
                         : marker == '>' ? "push length"
                         : marker == '%' ? "map length"
                                         : "attribute length";
      int64_t length = 0;
      next = body;
      if (ParseResult step = ReadLength(in, &next, what, &length); step != ParseResult::kOk)
        return step;
      if (length == -1 && marker == '*') {
        if (out != nullptr) out->type = Type::kNull;
        *pos = next;
        return ParseResult::kOk;
      }
      if (length < 0) return Fail(body, what, absl::StrCat("negative length ", length));
      const bool pairs = marker == '%' || marker == '|';
      if (static_cast<uint64_t>(length) > limits_.max_elements / (pairs ? 2 : 1)) {
        return Fail(body, what,
                    absl::StrCat(length, pairs ? " entries" : " elements", " exceed the limit of ",
                                 limits_.max_elements));
      }
      if (depth + 1 > limits_.max_depth) {
        return Fail(type_offset, what,
                    absl::StrCat("nesting deeper than ", limits_.max_depth, " levels"));
      }
      const size_t count = static_cast<size_t>(length) * (pairs ? 2 : 1);
      if (marker == '|') {
        // An attribute annotates the value that follows; it is dropped.
        for (size_t i = 0; i < count; ++i) {
          if (ParseResult step = Walk(in, &next, depth + 1, nullptr); step != ParseResult::kOk)
            return step;
        }
        *pos = next;
        return Walk(in, pos, depth, out);
      }
      if (out != nullptr) {
        out->type = marker == '*'   ? Type::kArray
                    : marker == '~' ? Type::kSet
                    : marker == '>' ? Type::kPush
                                    : Type::kMap;
        out->elements.clear();
        out->elements.resize(count);
      }
      for (size_t i = 0; i < count; ++i) {
        if (ParseResult step =
                Walk(in, &next, depth + 1, out != nullptr ? &out->elements[i] : nullptr);
            step != ParseResult::kOk) {
          return step;
        }
      }
      *pos = next;
      return ParseResult::kOk;
    }
    default:
      return Fail(type_offset, "reply type",
                  absl::StrCat("unknown type byte '", Escaped(in.substr(type_offset, 1)), "'"));
  }
}

}  // namespace reshard::engine
