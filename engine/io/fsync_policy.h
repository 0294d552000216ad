#pragma once

// When reshardd's durable files (the job journal, the targets' stream logs)
// reach the disk, as Redis's appendfsync: every record (kAlways), once a
// second from a thread of its own (kEverySec, the default: a crash of the
// machine loses at most about a second; a crash of the process nothing), or
// when the operating system decides (kNo). Every byte is written (write(2))
// before it is sent anywhere, whatever the policy.

#include <optional>
#include <string_view>

namespace reshard::engine {

enum class FsyncPolicy {
  kAlways,
  kEverySec,
  kNo,
};

// "always", "everysec", "no".
std::string_view FsyncPolicyName(FsyncPolicy policy);
// The inverse of FsyncPolicyName; nullopt for anything else.
std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name);

}  // namespace reshard::engine
