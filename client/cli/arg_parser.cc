#include "client/cli/arg_parser.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace reshard::client {

void ArgParser::AddValueOption(std::vector<std::string> names, ValueHandler on_value) {
  options_.push_back(Option{std::move(names), std::move(on_value), nullptr});
}

void ArgParser::AddFlag(std::vector<std::string> names, std::function<void()> on_flag) {
  options_.push_back(Option{std::move(names), nullptr, std::move(on_flag)});
}

const ArgParser::Option* ArgParser::Find(const std::string& arg,
                                         std::optional<std::string>* inline_value) const {
  for (const Option& option : options_) {
    for (const std::string& name : option.names) {
      if (arg == name) return &option;
      if (option.on_value && inline_values_ == InlineValues::kAccept &&
          absl::StartsWith(arg, absl::StrCat(name, "="))) {
        *inline_value = arg.substr(name.size() + 1);
        return &option;
      }
    }
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> ArgParser::Parse(
    const std::vector<std::string>& args) const {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::optional<std::string> value;
    const Option* option = Find(arg, &value);
    if (option == nullptr) {
      if (arg.size() > 1 && arg[0] == '-') {
        return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
      }
      positional.push_back(arg);
      continue;
    }
    if (option->on_flag) {
      option->on_flag();
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = args[++i];
    }
    if (std::optional<std::string> error = option->on_value(*value)) {
      return absl::InvalidArgumentError(*error);
    }
  }
  return positional;
}

}  // namespace reshard::client
