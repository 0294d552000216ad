#include "client/cli/ctl_args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/arg_parser.h"

namespace reshard::client {

const char kCtlUsage[] =
    "usage: reshardctl [--server ADDR] [-o json|table] COMMAND\n"
    "  create -f SPEC.json [--id ID]  create and start a job\n"
    "  list                           list the jobs\n"
    "  get JOB                        show one job\n"
    "  watch JOB                      follow a job until it streams (exit 0) or ends (exit 1)\n"
    "  pause JOB | resume JOB | cancel JOB | delete JOB\n"
    "  verify JOB [--full | --sample FRACTION] [--rate KEYS_PER_S] [--target NAME=HOST:PORT ...]\n"
    "                                 compare the source with the targets, with progress\n"
    "                                 (exit 3: problems found; --rate 0: unlimited, default "
    "10000)\n"
    "  cutover JOB [--max-write-pause DURATION] [--promote] [--leave-source-paused]\n"
    "                                 pause the source's writes, drain, promote, unpause: DONE\n"
    "                                 (exit 1: rolled back, the job streams on)\n"
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
  parser.AddValueOption({"--max-write-pause"}, [&](const std::string& value) {
    absl::Duration pause;
    if (!absl::ParseDuration(value, &pause) || pause <= absl::ZeroDuration()) {
      return std::optional(
          absl::StrCat("--max-write-pause: expected a positive duration such as 500ms or 2s, got '",
                       value, "'"));
    }
    inv.max_write_pause_ms = absl::ToInt64Milliseconds(pause);
    return std::optional<std::string>();
  });
  parser.AddFlag({"--promote"}, [&] { inv.promote = true; });
  parser.AddFlag({"--leave-source-paused"}, [&] { inv.leave_source_paused = true; });
  parser.AddFlag({"-h", "--help"}, [&] { help = true; });
  parser.AddFlag({"--full"}, [&] { inv.full = true; });
  parser.AddValueOption({"--sample"}, [&](const std::string& value) {
    double fraction = 0;
    if (!absl::SimpleAtod(value, &fraction) || !(fraction > 0 && fraction <= 1)) {
      return std::optional(
          absl::StrCat("--sample: expected a fraction in (0, 1], got '", value, "'"));
    }
    inv.sample = fraction;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"--rate"}, [&](const std::string& value) {
    double rate = 0;
    if (!absl::SimpleAtod(value, &rate) || rate < 0) {
      return std::optional(
          absl::StrCat("--rate: expected keys per second (0 = unlimited), got '", value, "'"));
    }
    inv.rate = rate;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"--target"}, [&](const std::string& value) {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      return std::optional(absl::StrCat("--target: expected NAME=HOST:PORT, got '", value, "'"));
    }
    inv.target_addresses.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    return std::optional<std::string>();
  });

  absl::StatusOr<std::vector<std::string>> positional = parser.Parse(args);
  if (!positional.ok()) return positional.status();
  if (inv.full && inv.sample.has_value()) {
    return absl::InvalidArgumentError("--full and --sample exclude each other");
  }
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
