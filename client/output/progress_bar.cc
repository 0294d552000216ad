#include "client/output/progress_bar.h"

#include <algorithm>
#include <cmath>

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

std::string FormatEta(double seconds) {
  int64_t s = seconds > 0 ? static_cast<int64_t>(seconds) : 0;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

std::string EtaText(uint64_t done, uint64_t total, double per_second) {
  if (done >= total) return "0s";
  if (per_second <= 0 || !std::isfinite(per_second)) return "?";
  return FormatEta(static_cast<double>(total - done) / per_second);
}

std::string KeysProgress(uint64_t read, uint64_t total, std::optional<double> keys_per_second,
                         int width) {
  if (total == 0) return absl::StrCat(ProgressBar(read, total, width), " ", read, " keys");
  std::string text =
      absl::StrCat(ProgressBar(read, total, width), " ", read, " / ", total, " keys");
  if (!keys_per_second.has_value()) return text;
  const double rate = *keys_per_second;
  absl::StrAppendFormat(&text, ", %.1f keys/s, ETA ", rate);
  absl::StrAppend(&text, EtaText(read, total, rate));
  return text;
}

}  // namespace reshard::client
