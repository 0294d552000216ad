#include "engine/io/fsync_policy.h"

namespace reshard::engine {

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "everysec";
}

std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNo}) {
    if (name == FsyncPolicyName(policy)) return policy;
  }
  return std::nullopt;
}

}  // namespace reshard::engine
