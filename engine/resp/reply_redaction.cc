#include "engine/resp/reply_redaction.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace reshard::engine {

std::string RedactEchoedArguments(std::string_view error) {
  constexpr std::string_view kEcho = "with args beginning with:";
  // The echo may hold any bytes; search a lowercased copy of the text.
  const std::string lower = absl::AsciiStrToLower(absl::string_view(error.data(), error.size()));
  const size_t at = lower.find(kEcho);
  if (at == std::string::npos) return std::string(error);
  return absl::StrCat(absl::string_view(error.data(), at + kEcho.size()), " ",
                      absl::string_view(kRedactedArguments.data(), kRedactedArguments.size()));
}

}  // namespace reshard::engine
