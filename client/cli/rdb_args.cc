#include "client/cli/rdb_args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/arg_parser.h"

namespace reshard::client {

const char kRdbUsage[] =
    "usage: reshardctl rdb inspect FILE [-o table|json] [--top N]\n"
    "       reshardctl rdb split FILE -f SPEC.json --out DIR [-o table|json]\n"
    "       reshardctl rdb plan FILE -f SPEC.json [-o table|json]\n";

absl::StatusOr<RdbArgs> ParseRdbArgs(const std::vector<std::string>& args) {
  RdbArgs parsed;
  ArgParser parser(ArgParser::InlineValues::kReject);
  parser.AddValueOption({"-f", "--file"}, [&](const std::string& value) {
    parsed.spec_path = value;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"--out"}, [&](const std::string& value) {
    parsed.out_dir = value;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"-o", "--output"}, [&](const std::string& value) {
    std::optional<OutputFormat> format = OutputFormatNamed(value);
    if (!format || *format == OutputFormat::kWide) {
      return std::optional(absl::StrCat("-o takes table or json, not '", value, "'"));
    }
    parsed.output = *format;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"--top"}, [&](const std::string& value) {
    if (!absl::SimpleAtoi(value, &parsed.top)) {
      return std::optional(absl::StrCat("--top: bad number '", value, "'"));
    }
    return std::optional<std::string>();
  });

  absl::StatusOr<std::vector<std::string>> positional = parser.Parse(args);
  if (!positional.ok()) return positional.status();
  auto usage = [](std::string text) { return absl::InvalidArgumentError(text); };
  if (positional->empty()) return usage("missing command");
  parsed.command = (*positional)[0];
  if (parsed.command != "inspect" && parsed.command != "split" && parsed.command != "plan") {
    return usage(absl::StrCat("unknown command '", parsed.command, "'"));
  }
  if (positional->size() != 2) {
    return usage(absl::StrCat(parsed.command, " takes exactly one FILE"));
  }
  parsed.file = (*positional)[1];
  if (parsed.command != "inspect" && parsed.spec_path.empty()) {
    return usage(absl::StrCat(parsed.command, " needs -f SPEC.json"));
  }
  if (parsed.command == "split" && parsed.out_dir.empty()) return usage("split needs --out DIR");
  return parsed;
}

}  // namespace reshard::client
