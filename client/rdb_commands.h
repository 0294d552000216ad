#pragma once

// `reshardctl rdb ...`: local commands on RDB files (no server needed).
//
//   reshardctl rdb inspect FILE [-o table|json] [--top N]
//   reshardctl rdb split FILE -f SPEC.json --out DIR [-o table|json]
//   reshardctl rdb plan FILE -f SPEC.json [-o table|json]
//
// SPEC.json is a reshard.v1.JobSpec in the protobuf JSON mapping (the file
// `reshardctl create -f` takes); offline only target names and filters are
// used. Exit codes as client/cli/exit_code.h: 0 ok, 1 error (bad spec, corrupt
// or unreadable input, unwritable output), 2 usage. Errors go to `err` as
// "reshardctl rdb: CODE: message".
//
// JSON output escapes every byte outside printable ASCII as \u00XX, so binary
// keys survive as one code point per byte.

#include <ostream>
#include <string>
#include <vector>

namespace reshard::client {

// argv[0] is "rdb", the rest are its arguments. Returns the exit code.
int RunRdbCommand(int argc, char** argv);

// The same with `args` excluding "rdb", and explicit output streams.
int RunRdb(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace reshard::client
