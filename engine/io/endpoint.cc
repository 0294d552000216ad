#include "engine/io/endpoint.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace reshard::engine {
namespace {

std::string S(std::string_view text) { return std::string(text); }

bool IsHostChar(char ch) {
  // Host names, IPv4 and (inside brackets) IPv6 literals with zone ids.
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '-' || ch == '.' || ch == ':' || ch == '%';
}

}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view field) {
  auto error = [&](std::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(S(field), ": ", S(message)));
  };
  auto malformed = [&](std::string_view why) {
    return error(absl::StrCat("malformed address '", S(text), "': ", S(why)));
  };
  if (text.empty()) return error("address is empty");
  HostPort result;
  std::string_view port_text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return malformed("missing ']'");
    result.host = S(text.substr(1, close - 1));
    if (result.host.empty()) return malformed("host missing");
    if (result.host.find(':') == std::string::npos) {
      return malformed("brackets are only for IPv6 addresses");
    }
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return malformed("port missing");
    port_text = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return malformed("port missing");
    result.host = S(text.substr(0, colon));
    if (result.host.find(':') != std::string::npos) {
      return malformed("an IPv6 address must be in brackets, e.g. '[::1]:7001'");
    }
    port_text = text.substr(colon + 1);
    if (result.host.empty()) return malformed("host missing");
  }
  for (const char ch : result.host) {
    if (!IsHostChar(ch)) return malformed("bad character in host");
  }
  if (port_text.empty()) return malformed("port missing");
  uint32_t port = 0;
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()), &port)) {
    return malformed("port is not a number");
  }
  if (port == 0 || port > 65535) return malformed("port out of range 1-65535");
  result.port = static_cast<uint16_t>(port);
  return result;
}

}  // namespace reshard::engine
