#include "client/cli/ctl_args.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  parser.AddFlag({"-h", "--help"}, [&] { help = true; });
  parser.AddFlag({"--version"}, [&] { version = true; });

  absl::StatusOr<std::vector<std::string>> positional = parser.Parse(args);
  if (!positional.ok()) return positional.status();
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
