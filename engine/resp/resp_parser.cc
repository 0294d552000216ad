#include "engine/resp/resp_parser.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/base/parse_error.h"

namespace reshard::engine {
namespace {

// The longest length line we accept: a sign and 18 digits keep any value in
// an int64 without overflow checks; real streams never come close.
constexpr size_t kMaxLengthDigits = 18;

std::string DescribeByte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f && c != '\'' && c != '\\') return std::string("'") + c + "'";
  return absl::StrFormat("'\\x%02x'", u);
}

}  // namespace

RespParser::RespParser() : RespParser(Limits{}) {}

RespParser::RespParser(Limits limits) : limits_(limits) {}

void RespParser::Reset(uint64_t offset) {
  offset_ = offset;
  error_.clear();
  failed_ = false;
  in_array_ = false;
  pos_ = 0;
  expected_ = 0;
  args_.clear();
}

ParseResult RespParser::Fail(size_t pos, std::string what) {
  failed_ = true;
  error_ = ParseErrorMessage("resp", offset_ + pos, what);
  return ParseResult::kError;
}

std::string RespParser::ArgContext(size_t arg) const {
  if (arg == 0) return "";
  return absl::StrCat("argument ", arg, " of ", expected_, ": ");
}

ParseResult RespParser::ParseLength(std::string_view in, size_t pos, size_t arg, int64_t* value,
                                    size_t* next) {
  const char* what = arg == 0 ? "array length" : "bulk length";
  size_t avail = in.size() - pos;
  size_t window = avail < kMaxLengthDigits + 2 ? avail : kMaxLengthDigits + 2;
  const char* line = in.data() + pos;
  const void* cr = window == 0 ? nullptr : std::memchr(line, '\r', window);
  if (cr == nullptr) {
    if (window < kMaxLengthDigits + 2) return ParseResult::kNeedMore;
    return Fail(pos, absl::StrCat(ArgContext(arg), what, " line is longer than ",
                                  kMaxLengthDigits + 1, " bytes"));
  }
  size_t len = static_cast<const char*>(cr) - line;
  bool negative = len > 0 && line[0] == '-';
  size_t digits_begin = negative ? 1 : 0;
  int64_t v = 0;
  bool ok = len > digits_begin && len - digits_begin <= kMaxLengthDigits;
  for (size_t i = digits_begin; ok && i < len; ++i) {
    char c = line[i];
    if (c < '0' || c > '9') {
      ok = false;
    } else {
      v = v * 10 + (c - '0');
    }
  }
  if (!ok) {
    return Fail(pos, absl::StrCat(ArgContext(arg), "bad ", what, " '",
                                  absl::CHexEscape(std::string(line, len)), "'"));
  }
  size_t lf = pos + len + 1;
  if (lf >= in.size()) return ParseResult::kNeedMore;
  if (in[lf] != '\n') {
    return Fail(lf, absl::StrCat(ArgContext(arg), "expected '\\n' after ", what, ", got ",
                                 DescribeByte(in[lf])));
  }
  *value = negative ? -v : v;
  *next = lf + 1;
  return ParseResult::kOk;
}

ParseResult RespParser::Parse(std::string_view in, size_t* consumed, RespCommand* out) {
  *consumed = 0;
  if (failed_) return ParseResult::kError;
  if (!in_array_) {
    if (in.empty()) return ParseResult::kNeedMore;
    char type = in[0];
    if (type == '\n' || type == '\r') {
      // A keepalive newline: masters send these while preparing the RDB and
      // some proxies send them in the stream. Returned as an empty command.
      size_t n = 1;
      if (type == '\r') {
        if (in.size() < 2) return ParseResult::kNeedMore;
        if (in[1] != '\n')
          return Fail(1, absl::StrCat("expected '\\n' after '\\r', got ", DescribeByte(in[1])));
        n = 2;
      }
      out->args.clear();
      out->wire = in.substr(0, n);
      *consumed = n;
      offset_ += n;
      return ParseResult::kOk;
    }
    if (type != '*') {
      return Fail(0, absl::StrCat("expected '*' (an array; inline commands are not accepted in a "
                                  "replication stream), got ",
                                  DescribeByte(type)));
    }
    int64_t n = 0;
    size_t next = 0;
    ParseResult r = ParseLength(in, 1, 0, &n, &next);
    if (r != ParseResult::kOk) return r;
    if (n < 0) return Fail(1, absl::StrCat("negative array length ", n));
    if (static_cast<uint64_t>(n) > limits_.max_args) {
      return Fail(1, absl::StrCat("array length ", n, " exceeds the limit of ", limits_.max_args));
    }
    in_array_ = true;
    expected_ = n;
    pos_ = next;
    args_.clear();
  }
  // Arguments. Each one is complete or not read at all: pos_ always sits on a
  // '$' (or at the end of the command).
  while (static_cast<int64_t>(args_.size()) < expected_) {
    size_t pos = pos_;
    if (pos >= in.size()) return ParseResult::kNeedMore;
    if (in[pos] != '$') {
      return Fail(pos, absl::StrCat(ArgContext(args_.size() + 1), "expected '$', got ",
                                    DescribeByte(in[pos])));
    }
    int64_t len = 0;
    size_t next = 0;
    ParseResult r = ParseLength(in, pos + 1, args_.size() + 1, &len, &next);
    if (r != ParseResult::kOk) return r;
    if (len < 0) {
      return Fail(pos + 1,
                  absl::StrCat(ArgContext(args_.size() + 1), "negative bulk length ", len));
    }
    if (static_cast<uint64_t>(len) > limits_.max_bulk) {
      return Fail(pos + 1, absl::StrCat(ArgContext(args_.size() + 1), "bulk length ", len,
                                        " exceeds the limit of ", limits_.max_bulk));
    }
    size_t end = next + static_cast<size_t>(len);
    if (in.size() < end + 2) {
      // Check what has arrived of the terminator, so garbage fails early.
      if (in.size() > end && in[end] != '\r') {
        return Fail(
            end, absl::StrCat(ArgContext(args_.size() + 1), "expected CRLF after a bulk of ", len,
                              " bytes, got ", DescribeByte(in[end])));
      }
      return ParseResult::kNeedMore;
    }
    if (in[end] != '\r' || in[end + 1] != '\n') {
      size_t bad = in[end] != '\r' ? end : end + 1;
      return Fail(bad, absl::StrCat(ArgContext(args_.size() + 1), "expected CRLF after a bulk of ",
                                    len, " bytes, got ", DescribeByte(in[bad])));
    }
    args_.push_back(ArgPos{next, static_cast<size_t>(len)});
    pos_ = end + 2;
  }
  out->args.clear();
  out->args.reserve(args_.size());
  for (const ArgPos& a : args_) out->args.emplace_back(in.data() + a.begin, a.size);
  out->wire = in.substr(0, pos_);
  *consumed = pos_;
  offset_ += pos_;
  in_array_ = false;
  pos_ = 0;
  expected_ = 0;
  args_.clear();
  return ParseResult::kOk;
}

}  // namespace reshard::engine
