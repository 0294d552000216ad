#pragma once

// reshardctl's exit codes, the same for the RPC commands and `reshardctl rdb`.

namespace reshard::client {

inline constexpr int kExitOk = 0;
// The server refused or is unreachable, the job failed, or (rdb) the input is
// corrupt or unreadable, the spec bad, the output unwritable.
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;  // the command line is wrong
// verify: the verification ran and found problems (missing, stray, different keys).
inline constexpr int kExitProblems = 3;

}  // namespace reshard::client
