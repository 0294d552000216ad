#include "client/cli/ctl_args.h"

#include "absl/strings/str_cat.h"
#include "client/cli/arg_parser.h"

namespace reshard::client {

const char kCtlUsage[] =
    "usage: reshardctl [--server ADDR] [-o json|table] COMMAND\n"
    "  create -f SPEC.json [--id ID]  create and start a job\n"
    "  list                           list the jobs\n"
    "  get JOB                        show one job\n"
    "  watch JOB                      follow a job until it streams (exit 0) or ends (exit 1)\n"
    "  pause JOB | resume JOB | cancel JOB | delete JOB\n"
    "  rdb ...                        local commands on RDB files\n"
    "ADDR defaults to 127.0.0.1:50051.\n";

absl::StatusOr<CtlInvocation> ParseCtlArgs(const std::vector<std::string>& args) {
  CtlInvocation inv;
  bool help = false;
  ArgParser parser(ArgParser::InlineValues::kAccept);
  parser.AddValueOption({"--server", "-s"}, [&](const std::string& value) {
    inv.options.server = value;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"-o", "--output"}, [&](const std::string& value) {
    std::optional<OutputFormat> format = OutputFormatNamed(value);
    if (!format)
      return std::optional(absl::StrCat("-o: expected json or table, got '", value, "'"));
    inv.options.output = *format;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"-f", "--file"}, [&](const std::string& value) {
    inv.spec_file = value;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"--id"}, [&](const std::string& value) {
    inv.job_id = value;
    return std::optional<std::string>();
  });
  parser.AddFlag({"-h", "--help"}, [&] { help = true; });

  absl::StatusOr<std::vector<std::string>> positional = parser.Parse(args);
  if (!positional.ok()) return positional.status();
  if (help) {
    inv.command = "help";
  } else if (positional->empty()) {
    return absl::InvalidArgumentError("no command given");
  }
  if (!positional->empty()) {
    if (inv.command.empty()) inv.command = positional->front();
    inv.positional.assign(positional->begin() + 1, positional->end());
  }
  return inv;
}

}  // namespace reshard::client
