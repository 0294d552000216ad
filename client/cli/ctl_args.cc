#include "client/cli/ctl_args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/cli/arg_parser.h"
#include "client/cli/ctl_help.h"

namespace reshard::client {

std::string CtlUsage() {
  std::string text =
      "usage: reshardctl [--server ADDR] [-o table|wide|json] [--tls_ca PEM] [--tls_cert PEM "
      "--tls_key PEM]\n"
      "                  [--tls_server_name NAME] [--tls] [--token_file FILE] COMMAND [ARGS]\n";
  for (const CommandHelp& help : CtlCommandHelp()) {
    absl::StrAppendFormat(&text, "  %-33s %s\n", std::string(help.synopsis),
                          std::string(help.summary));
  }
  absl::StrAppend(&text,
                  "ADDR defaults to 127.0.0.1:50051. `reshardctl help COMMAND` tells more about "
                  "one.\n",
                  kCtlSecurityHelp, kCtlExitCodes);
  return text;
}

absl::StatusOr<CtlInvocation> ParseCtlArgs(const std::vector<std::string>& args) {
  CtlInvocation inv;
  bool help = false;
  bool version = false;
  ArgParser parser(ArgParser::InlineValues::kAccept);
  parser.AddValueOption({"--server", "-s"}, [&](const std::string& value) {
    inv.options.server = value;
    return std::optional<std::string>();
  });
  parser.AddValueOption({"-o", "--output"}, [&](const std::string& value) {
    std::optional<OutputFormat> format = OutputFormatNamed(value);
    if (!format)
      return std::optional(absl::StrCat("-o: expected table, wide or json, got '", value, "'"));
    inv.options.output = *format;
    return std::optional<std::string>();
  });
  // --tls_ca and the others: a file name each, and TLS on.
  auto tls_file = [&](std::string* field) {
    return [&inv, field](const std::string& value) {
      *field = value;
      inv.options.tls = true;
      return std::optional<std::string>();
    };
  };
  parser.AddValueOption({"--tls_ca"}, tls_file(&inv.options.tls_ca_file));
  parser.AddValueOption({"--tls_cert"}, tls_file(&inv.options.tls_cert_file));
  parser.AddValueOption({"--tls_key"}, tls_file(&inv.options.tls_key_file));
  parser.AddValueOption({"--tls_server_name"}, tls_file(&inv.options.tls_server_name));
  parser.AddFlag({"--tls"}, [&] { inv.options.tls = true; });
  // verify: TLS to the Redis of every --target (its tls-port), on when any is given.
  auto target_tls_file = [&](std::string* field) {
    return [&inv, field](const std::string& value) {
      *field = value;
      inv.target_tls.enabled = true;
      return std::optional<std::string>();
    };
  };
  parser.AddValueOption({"--target_tls_ca"}, target_tls_file(&inv.target_tls.ca_file));
  parser.AddValueOption({"--target_tls_cert"}, target_tls_file(&inv.target_tls.cert_file));
  parser.AddValueOption({"--target_tls_key"}, target_tls_file(&inv.target_tls.key_file));
  parser.AddValueOption({"--target_tls_server_name"}, target_tls_file(&inv.target_tls.server_name));
  parser.AddFlag({"--target_tls"}, [&] { inv.target_tls.enabled = true; });
  parser.AddValueOption({"--token_file"}, [&](const std::string& value) {
    inv.options.token_file = value;
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
  parser.AddFlag({"--version"}, [&] { version = true; });
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
    // `reshardctl --help`, `reshardctl watch --help`: as `help [watch]`.
    inv.command = "help";
    inv.positional.assign(positional->begin(), positional->end());
    if (inv.positional.size() > 1) inv.positional.resize(1);
    return inv;
  }
  if (version) {
    inv.command = "version";
    return inv;
  }
  if (positional->empty()) return absl::InvalidArgumentError("no command given");
  inv.command = positional->front();
  inv.positional.assign(positional->begin() + 1, positional->end());
  return inv;
}

}  // namespace reshard::client
