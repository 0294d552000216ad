#pragma once

// Where the tests find server builds other than PATH's redis-server: old
// Redis and Valkey releases that scripts/fetch_servers.sh unpacks under
// ${RESHARD_BINARY_DIR}/servers (scripts/test.sh does it, and exports
// RESHARD_REDIS6_SERVER / RESHARD_VALKEY_SERVER pointing there).

#include <optional>
#include <string>

namespace reshard::testing {

// The server binary named by the environment variable `env` when it is set
// and executable; else ${RESHARD_BINARY_DIR}/servers/`fetched` (e.g.
// "redis-6.0/bin/redis-server") when `fetched` is not empty and executable
// there; else nullopt (the caller skips, saying how to get the server).
std::optional<std::string> FindServerBinary(const std::string& env, const std::string& fetched);

// The path FindServerBinary looks at for `fetched`, for skip messages.
std::string FetchedServerPath(const std::string& fetched);

}  // namespace reshard::testing
