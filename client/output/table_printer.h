#pragma once

// Plain-text tables: left-aligned columns separated by two spaces, one line per
// row (the first row is usually the header). No trailing spaces.

#include <ostream>
#include <string>
#include <vector>

namespace reshard::client {

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out);

}  // namespace reshard::client
