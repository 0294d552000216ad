#pragma once

// The command line of `reshardctl rdb` (the arguments after "rdb"):
//
//   inspect FILE [-o table|json] [--top N]
//   split FILE -f SPEC.json --out DIR [-o table|json]
//   plan FILE -f SPEC.json [-o table|json]
//
// Options may come anywhere, as `--name VALUE` only.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/output/output_format.h"

namespace reshard::client {

// What follows a usage error of `reshardctl rdb`.
extern const char kRdbUsage[];

struct RdbArgs {
  std::string command;  // inspect, split or plan
  std::string file;
  std::string spec_path;
  std::string out_dir;
  OutputFormat output = OutputFormat::kTable;
  size_t top = 10;
};

// INVALID_ARGUMENT with the text to show for a usage error ("missing command",
// "split needs --out DIR", "--top: bad number 'x'", ...).
absl::StatusOr<RdbArgs> ParseRdbArgs(const std::vector<std::string>& args);

}  // namespace reshard::client
