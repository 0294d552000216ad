#pragma once

// ArgParser: reshardctl's one command-line parser, for the RPC commands
// (client/cli/ctl_args.h) and for `reshardctl rdb` (client/cli/rdb_args.h).
// Options are declared with what to do with them; every argument that is not
// an option is positional, kept in order.
//
//   NAME VALUE     an option that takes a value (any of its names)
//   NAME=VALUE     the same, when the parser accepts inline values
//   NAME           a flag
//   -              positional (stdin, by convention)
//   any other -X   "unknown option -X"
//
// Parsing stops at the first error, so the error is about the first bad
// argument. Handlers run during Parse, in argument order.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reshard::client {

class ArgParser {
 public:
  // Returns nullopt when `value` is fine, else the error text to show.
  using ValueHandler = std::function<std::optional<std::string>(const std::string& value)>;

  // Whether "--name=VALUE" is an option with its value or an unknown option.
  enum class InlineValues { kAccept, kReject };

  explicit ArgParser(InlineValues inline_values) : inline_values_(inline_values) {}

  // An option that takes a value; `names` are its spellings ("-o", "--output").
  void AddValueOption(std::vector<std::string> names, ValueHandler on_value);
  // An option without a value.
  void AddFlag(std::vector<std::string> names, std::function<void()> on_flag);

  // The positional arguments, or INVALID_ARGUMENT whose message is what to
  // show: "NAME needs a value", "unknown option X", or a handler's text.
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args) const;

 private:
  struct Option {
    std::vector<std::string> names;
    ValueHandler on_value;          // set for an option with a value
    std::function<void()> on_flag;  // set for a flag
  };

  // The option `arg` spells, with its inline value (if any) in *inline_value.
  const Option* Find(const std::string& arg, std::optional<std::string>* inline_value) const;

  InlineValues inline_values_;
  std::vector<Option> options_;
};

}  // namespace reshard::client
