#pragma once

// `reshardctl help [COMMAND]` and `reshardctl COMMAND --help`: one entry per
// command, also the list that the shell completions (client/cli/completion.h)
// offer.

#include <span>
#include <string>
#include <string_view>

namespace reshard::client {

struct CommandHelp {
  std::string_view name;      // "watch"
  std::string_view synopsis;  // "watch JOB"
  std::string_view summary;   // one line, for the command list
  std::string_view details;   // what it does, its options, its exit codes
  bool takes_job_id;          // completion offers job ids after it
};

// Every command, in the order `reshardctl help` lists them.
std::span<const CommandHelp> CtlCommandHelp();
// Nullptr for an unknown name.
const CommandHelp* FindCommandHelp(std::string_view name);

// The text of `reshardctl help COMMAND`: usage line, details, global options.
std::string CommandHelpText(const CommandHelp& help);

// The exit codes, as `reshardctl help` ends.
extern const char kCtlExitCodes[];
// The TLS and token options, in `reshardctl help` and every command's help.
extern const char kCtlSecurityHelp[];

}  // namespace reshard::client
