#include "server/status_redaction.h"

#include <algorithm>

#include "absl/strings/str_replace.h"

namespace reshard::server {

std::vector<std::string> SpecSecrets(const engine::JobSpec& spec) {
  std::vector<std::string> secrets;
  auto add = [&](const std::string& password) {
    if (password.size() >= kMinRedactedSecretSize &&
        std::find(secrets.begin(), secrets.end(), password) == secrets.end()) {
      secrets.push_back(password);
    }
  };
  add(spec.source.credentials.password);
  if (spec.source.sentinel.has_value()) add(spec.source.sentinel->credentials.password);
  for (const engine::TargetSpec& target : spec.targets) {
    add(target.credentials.password);
    if (target.replica.has_value()) add(target.replica->credentials.password);
    if (target.cluster.has_value()) add(target.cluster->credentials.password);
  }
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

std::string RedactSecrets(const std::vector<std::string>& secrets, std::string_view text) {
  std::string result(text);
  for (const std::string& secret : secrets) {
    if (result.find(secret) == std::string::npos) continue;
    result = absl::StrReplaceAll(
        result, {{secret, absl::string_view(kRedactedSecret.data(), kRedactedSecret.size())}});
  }
  return result;
}

void RedactSecrets(const std::vector<std::string>& secrets, engine::JobStatus* status) {
  if (secrets.empty()) return;
  if (!status->error.ok()) {
    std::string message(status->error.message());
    std::string redacted = RedactSecrets(secrets, message);
    if (redacted != message) status->error = absl::Status(status->error.code(), redacted);
  }
  status->detail = RedactSecrets(secrets, status->detail);
  for (engine::TargetStatus& target : status->targets) {
    target.state_reason = RedactSecrets(secrets, target.state_reason);
  }
  if (status->cutover.has_value()) {
    status->cutover->error = RedactSecrets(secrets, status->cutover->error);
    for (std::string& step : status->cutover->steps) step = RedactSecrets(secrets, step);
  }
}

}  // namespace reshard::server
