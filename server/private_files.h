#pragma once

// What reshardd requires of the files and directory where it keeps secrets:
// a file that holds one (the API token, the secrets key) is readable by its
// owner only, and so is the state directory (job specs, their secret files,
// the spools of the targets' streams).

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reshard::server {

// The contents of `path`, which must be a regular file that neither its group
// nor others may read, write or execute (mode 0600 or 0400). Errors name
// `flag` and the file: FAILED_PRECONDITION "<flag>: <path> has mode 0644: a
// secret must be readable by its owner only (chmod 600 <path>)",
// NOT_FOUND/FAILED_PRECONDITION "<flag>: cannot read <path>: <errno text>".
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, std::string_view flag);

// What MakePrivateDir did.
struct PrivateDirChange {
  enum Kind { kNone, kCreated, kTightened } kind = kNone;
  unsigned old_mode = 0;  // kTightened: the mode it had
};

// Makes `path` a directory that only its owner can enter: creates it (and its
// parents) with mode 0700, or sets an existing one that its group or others
// can access to 0700. FAILED_PRECONDITION naming `flag` when it cannot be
// created, is not a directory, or cannot be tightened ("<flag>: <path> has
// mode 0755 and cannot be made 0700: Operation not permitted").
absl::StatusOr<PrivateDirChange> MakePrivateDir(const std::string& path, std::string_view flag);

// "0644": the permission bits of `mode` as chmod takes them.
std::string ModeText(unsigned mode);

}  // namespace reshard::server
