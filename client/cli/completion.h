#pragma once

// `reshardctl completion bash|zsh`: the shell completion scripts. They
// complete the commands and options (from client/cli/ctl_help.h), -o's
// formats, files after -f, and job ids after a command that takes one, by
// running `reshardctl [--server ADDR] list` with the --server of the line
// being completed.

#include <optional>
#include <string>
#include <string_view>

namespace reshard::client {

// The script for `shell` ("bash" or "zsh"); nullopt for another shell.
std::optional<std::string> CompletionScript(std::string_view shell);

}  // namespace reshard::client
