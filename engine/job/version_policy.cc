#include "engine/job/version_policy.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/absl_view.h"

namespace reshard::engine {
namespace {

// The newest Valkey release whose RDB format (VALKEY080) reshardd reads.
constexpr int kNewestValkeyRead[3] = {9, 1, 2};
// RDB versions Valkey calls foreign (Redis >= 7.4's formats): it refuses to
// load them, in a full sync and in RESTORE, unless rdb-version-check is
// relaxed.
constexpr int kValkeyForeignRdb[2] = {12, 79};

}  // namespace

bool IsForeignToValkey(int rdb_version) {
  return rdb_version >= kValkeyForeignRdb[0] && rdb_version <= kValkeyForeignRdb[1];
}

bool CanLoadRdb(const ServerVersion& target, int rdb_version) {
  if (rdb_version == 80) return target.rdb_version == 80;
  if (target.product == "Valkey" && IsForeignToValkey(rdb_version)) return false;
  return target.rdb_version >= rdb_version;
}

absl::Status CheckTargetCanLoad(const std::string& target_name, const ServerVersion& target,
                                const std::optional<ServerVersion>& source, int rdb_version) {
  if (CanLoadRdb(target, rdb_version)) return absl::OkStatus();
  std::string source_text =
      source.has_value() ? source->ToString() : absl::StrCat("RDB ", rdb_version);
  std::string head = absl::StrCat("target '", target_name, "' runs ", target.ToString(),
                                  ", which cannot load the snapshot of the source (", source_text,
                                  ", RDB ", rdb_version, "): ");
  if (rdb_version == 80 && target.product != "Valkey") {
    return absl::FailedPreconditionError(absl::StrCat(
        head, "VALKEY080 is Valkey's own format, which no Redis loads; use a Valkey 9 target"));
  }
  if (target.product == "Valkey" && IsForeignToValkey(rdb_version)) {
    return absl::FailedPreconditionError(absl::StrCat(
        head, "Redis 7.4 and later write RDB ", kValkeyForeignRdb[0],
        " and up, a format Valkey refuses as foreign (rdb-version-check strict); use a Redis ",
        "target of the source's version or newer"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(head, "upgrade the target to a release that reads RDB ", rdb_version));
}

std::optional<int> RdbVersionSentBy(const ServerVersion& source) {
  if (source.product == "Valkey" && source.major >= 9) return std::nullopt;
  return source.rdb_version;
}

bool AcceptsSetPxat(const ServerVersion& target) {
  return target.product == "Valkey" || target.major > 6 || (target.major == 6 && target.minor >= 2);
}

std::optional<ServerVersion> ServerVersionFromReplconf(std::string_view announced) {
  std::vector<absl::string_view> parts = absl::StrSplit(AsAbsl(announced), '.');
  int numbers[3] = {0, 0, 0};
  if (parts.size() != 3) return std::nullopt;
  for (int i = 0; i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], &numbers[i]) || numbers[i] < 0) return std::nullopt;
  }
  ServerVersion version;
  version.product = "Valkey";
  version.version = std::string(announced);
  version.major = numbers[0];
  version.minor = numbers[1];
  version.rdb_version = RdbVersionOfRelease("Valkey", version.major, version.minor);
  return version;
}

std::optional<std::string> VersionToAnnounce(
    const std::vector<std::optional<ServerVersion>>& targets) {
  auto newest = std::make_tuple(kNewestValkeyRead[0], kNewestValkeyRead[1], kNewestValkeyRead[2]);
  auto announce = newest;
  std::string text;
  for (const std::optional<ServerVersion>& target : targets) {
    if (!target.has_value() || target->product != "Valkey" || target->major < 9)
      return std::nullopt;
    int patch = 0;
    std::vector<absl::string_view> parts = absl::StrSplit(AsAbsl(target->version), '.');
    if (parts.size() == 3) absl::SimpleAtoi(parts[2], &patch);
    auto version = std::make_tuple(target->major, target->minor, patch);
    if (version < announce) {
      announce = version;
      text = target->version;
    }
  }
  if (targets.empty()) return std::nullopt;
  if (announce == newest) {
    return absl::StrCat(kNewestValkeyRead[0], ".", kNewestValkeyRead[1], ".", kNewestValkeyRead[2]);
  }
  return text;
}

}  // namespace reshard::engine
