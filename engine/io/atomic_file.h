#pragma once

// Replacing a small file so that a crash (of the process or the machine)
// leaves either the old or the new version, never a mix: the new contents go
// to "<path>.tmp", which is fsynced, renamed over <path>, and then the
// directory is fsynced so that the rename itself is durable.

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reshard::engine {

// INTERNAL "cannot create|write|sync|rename <path>: <errno text>". `mode` is
// exact (the umask does not apply): 0600 stays 0600.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode);

// fsync of a directory, so that files created, renamed or removed in it stay
// so after a crash. INTERNAL "cannot sync <dir>: <errno text>".
absl::Status SyncDirectory(const std::string& dir);

// The directory part of `path` ("." when it has none).
std::string DirectoryOf(const std::string& path);

}  // namespace reshard::engine
