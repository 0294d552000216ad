#include "engine/job/version_policy.h"

#include "absl/strings/str_cat.h"

namespace reshard::engine {

bool CanLoadRdb(const ServerVersion& target, int rdb_version) {
  if (rdb_version == 80) return target.rdb_version == 80;
  return target.rdb_version >= rdb_version;
}

absl::Status CheckTargetCanLoad(const std::string& target_name, const ServerVersion& target,
                                const std::optional<ServerVersion>& source, int rdb_version) {
  if (CanLoadRdb(target, rdb_version)) return absl::OkStatus();
  std::string source_text =
      source.has_value() ? source->ToString() : absl::StrCat("RDB ", rdb_version);
  return absl::FailedPreconditionError(
      absl::StrCat("target '", target_name, "' runs ", target.ToString(),
                   ", which cannot load the snapshot of the source (", source_text, ", RDB ",
                   rdb_version, "): upgrade the target to a release that reads RDB ", rdb_version));
}

bool AcceptsSetPxat(const ServerVersion& target) {
  return target.product == "Valkey" || target.major > 6 || (target.major == 6 && target.minor >= 2);
}

}  // namespace reshard::engine
