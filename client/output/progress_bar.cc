#include "client/output/progress_bar.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reshard::client {

std::string ProgressBar(uint64_t done, uint64_t total, int width) {
  if (total == 0) {
    return absl::StrCat("[", std::string(width, '?'), "]    ?");
  }
  double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  int filled = static_cast<int>(fraction * width);
  return absl::StrFormat("[%s%s] %3d%%", std::string(filled, '#'), std::string(width - filled, '-'),
                         static_cast<int>(fraction * 100));
}

}  // namespace reshard::client
