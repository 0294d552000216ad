#include "tests/support/server_binaries.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace reshard::testing {
namespace {

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

}  // namespace

std::string FetchedServerPath(const std::string& fetched) {
  return absl::StrCat(RESHARD_BINARY_DIR, "/servers/", fetched);
}

std::optional<std::string> FindServerBinary(const std::string& env, const std::string& fetched) {
  if (const char* named = std::getenv(env.c_str()); named != nullptr && IsExecutable(named)) {
    return std::string(named);
  }
  if (!fetched.empty() && IsExecutable(FetchedServerPath(fetched))) {
    return FetchedServerPath(fetched);
  }
  return std::nullopt;
}

}  // namespace reshard::testing
