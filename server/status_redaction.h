#pragma once

// The last guard between a job's passwords and everything that shows a job's
// status (the API, the event log, the state files, /metrics): the passwords
// of its spec are cut out of the status's free text. The engine already
// keeps them out (engine/resp/reply_redaction.h redacts the arguments a
// server echoes); this catches what a server might echo in a form nobody
// foresaw.

#include <string>
#include <string_view>
#include <vector>

#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"

namespace reshard::server {

// What a password found in a status's text is replaced with.
inline constexpr std::string_view kRedactedSecret = "(redacted)";

// Passwords shorter than this are not searched for: they would be found in
// ordinary words, and where "(redacted)" then appears would spell them out.
inline constexpr size_t kMinRedactedSecretSize = 6;

// The passwords of `spec` (source, targets, managed replicas) of at least
// kMinRedactedSecretSize bytes, longest first (so that a password that
// contains another is cut whole).
std::vector<std::string> SpecSecrets(const engine::JobSpec& spec);

// `text` with every occurrence of each of `secrets` replaced by "(redacted)".
std::string RedactSecrets(const std::vector<std::string>& secrets, std::string_view text);

// The same on the free text of `status`: the error's message, the detail,
// each target's state_reason, and the cutover's error and steps.
void RedactSecrets(const std::vector<std::string>& secrets, engine::JobStatus* status);

}  // namespace reshard::server
