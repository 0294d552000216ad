#include "engine/resp/resp_writer.h"

#include <charconv>

namespace reshard::engine {
namespace {

void AppendPrefixed(std::string* out, char type, int64_t v) {
  char buf[24];
  buf[0] = type;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, v);
  *end++ = '\r';
  *end++ = '\n';
  out->append(buf, end - buf);
}

}  // namespace

void AppendArrayHeader(std::string* out, size_t n) {
  AppendPrefixed(out, '*', static_cast<int64_t>(n));
}

void AppendBulk(std::string* out, std::string_view s) {
  AppendPrefixed(out, '$', static_cast<int64_t>(s.size()));
  out->append(s);
  out->append("\r\n", 2);
}

void AppendCommand(std::string* out, std::span<const std::string_view> args) {
  size_t total = 16;
  for (std::string_view a : args) total += a.size() + 16;
  out->reserve(out->size() + total);
  AppendArrayHeader(out, args.size());
  for (std::string_view a : args) AppendBulk(out, a);
}

void AppendCommand(std::string* out, std::initializer_list<std::string_view> args) {
  AppendCommand(out, std::span<const std::string_view>(args.begin(), args.size()));
}

void AppendSimpleString(std::string* out, std::string_view s) {
  out->push_back('+');
  out->append(s);
  out->append("\r\n", 2);
}

void AppendError(std::string* out, std::string_view message) {
  out->push_back('-');
  size_t start = out->size();
  out->append(message);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') (*out)[i] = ' ';
  }
  out->append("\r\n", 2);
}

void AppendInteger(std::string* out, int64_t v) { AppendPrefixed(out, ':', v); }

void AppendNullBulk(std::string* out) { out->append("$-1\r\n", 5); }

}  // namespace reshard::engine
