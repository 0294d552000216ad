#include "engine/rdb/rdb_version.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {
namespace {

std::optional<std::string> InfoField(std::string_view info, std::string_view name) {
  for (absl::string_view line : absl::StrSplit(AsAbsl(info), '\n')) {
    if (line.size() > name.size() && line.substr(0, name.size()) == AsAbsl(name) &&
        line[name.size()] == ':') {
      absl::string_view value = line.substr(name.size() + 1);
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      return std::string(value);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ServerVersion::ToString() const {
  return absl::StrCat(product, " ", version, " (RDB ", rdb_version, ")");
}

int RdbVersionOfRelease(std::string_view product, int major, int minor) {
  if (product == "Valkey") {
    if (major >= 9) return 80;  // VALKEY080
    return 11;                  // 7.2 .. 8.x write Redis 7.2's RDB 11
  }
  // Redis (src/rdb.h RDB_VERSION of each release).
  int v = major * 100 + minor;
  if (v >= 806) return 13;
  if (v >= 704) return 12;
  if (v >= 702) return 11;
  if (v >= 700) return 10;
  if (v >= 500) return 9;
  if (v >= 400) return 8;
  if (v >= 302) return 7;
  return 6;
}

std::optional<ServerVersion> ServerVersionFromInfo(std::string_view info) {
  ServerVersion out;
  std::optional<std::string> version = InfoField(info, "valkey_version");
  out.product = "Valkey";
  if (!version.has_value()) {
    version = InfoField(info, "redis_version");
    out.product = "Redis";
  }
  if (!version.has_value()) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(*version, '.');
  int major = 0, minor = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &major) ||
      !absl::SimpleAtoi(parts[1], &minor)) {
    return std::nullopt;
  }
  out.version = *version;
  out.major = major;
  out.minor = minor;
  out.rdb_version = RdbVersionOfRelease(out.product, major, minor);
  return out;
}

}  // namespace reshard::engine
