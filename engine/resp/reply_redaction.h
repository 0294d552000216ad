#pragma once

// Redaction of the arguments a server echoes in an error reply. An error
// reply becomes the text of a job's error, which reaches logs, the API and
// the state files; the arguments it echoes may be a password.
//
// Redis and Valkey echo the first arguments of a command they do not know
// (a renamed or disabled CONFIG on a managed service, for one):
//   ERR unknown command 'CONFIG', with args beginning with: 'SET' 'masterauth' 'pw'
//   ERR unknown command `CONFIG`, with args beginning with: `SET`, `masterauth`, ...  (6.0)
// RespReplyParser applies this to every error reply it returns, so no error
// built from a reply (AUTH, CONFIG SET masterauth, ...) carries them.

#include <string>
#include <string_view>

namespace reshard::engine {

// What replaces the echoed arguments.
inline constexpr std::string_view kRedactedArguments = "(arguments redacted)";

// `error` with everything after "with args beginning with:" (any case)
// replaced by " (arguments redacted)"; `error` itself when it echoes none.
std::string RedactEchoedArguments(std::string_view error);

}  // namespace reshard::engine
