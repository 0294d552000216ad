#include "engine/job/verify_sampling.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reshard::engine {

bool KeyInSample(std::string_view key, double fraction) {
  if (fraction >= 1.0) return true;
  if (fraction <= 0.0) return false;
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  // The top 53 bits as a double in [0, 1).
  double unit = static_cast<double>(hash >> 11) / static_cast<double>(1ull << 53);
  return unit < fraction;
}

absl::StatusOr<std::map<int, uint64_t>> ParseKeyspaceDbs(std::string_view info) {
  std::map<int, uint64_t> dbs;
  for (absl::string_view line : absl::StrSplit(absl::string_view(info.data(), info.size()), '\n')) {
    line = absl::StripSuffix(line, "\r");
    if (!absl::StartsWith(line, "db")) continue;
    size_t colon = line.find(':');
    int db = 0;
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(line.substr(2, colon - 2), &db) ||
        db < 0) {
      return absl::InvalidArgumentError(absl::StrCat("INFO keyspace: bad db in \"", line, "\""));
    }
    absl::string_view rest = line.substr(colon + 1);
    if (!absl::StartsWith(rest, "keys=")) {
      return absl::InvalidArgumentError(absl::StrCat("INFO keyspace: no keys= in \"", line, "\""));
    }
    absl::string_view number = rest.substr(5);
    number = number.substr(0, number.find(','));
    uint64_t keys = 0;
    if (!absl::SimpleAtoi(number, &keys)) {
      return absl::InvalidArgumentError(
          absl::StrCat("INFO keyspace: keys= is not a number in \"", line, "\""));
    }
    dbs[db] = keys;
  }
  return dbs;
}

}  // namespace reshard::engine
