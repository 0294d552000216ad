#pragma once

// `reshardctl rdb ...`: local commands on RDB files (no server needed).

namespace reshard::client {

// argv[0] is "rdb", the rest are its arguments. Returns the exit code.
int RunRdbCommand(int argc, char** argv);

}  // namespace reshard::client
