#pragma once

// How reshardctl prints what it got: `-o table` (for people, the default),
// `-o wide` (get and list: every column) or `-o json` (for programs).

#include <optional>
#include <string_view>

namespace reshard::client {

enum class OutputFormat { kTable, kWide, kJson };

// "table", "wide" or "json"; nullopt for anything else.
inline std::optional<OutputFormat> OutputFormatNamed(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "wide") return OutputFormat::kWide;
  if (name == "json") return OutputFormat::kJson;
  return std::nullopt;
}

}  // namespace reshard::client
