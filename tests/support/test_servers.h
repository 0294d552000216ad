#pragma once

// Real servers and clients for a gtest body, where a failure to start or to
// connect is a test failure rather than a Status to handle: each function
// records a non-fatal gtest failure naming the error and returns an empty
// result, so a test checks the result (ASSERT_TRUE(server)) and stops.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"

namespace reshard::testing {

// RedisServer::Start(options); nullptr (and a test failure) when it fails.
std::unique_ptr<RedisServer> StartServer(RedisServerOptions options = {});

// A client of `server` on 127.0.0.1 (TLS for a TLS server). A test cannot go on without it: a
// failure to connect is recorded, then absl::BadStatusOrAccess ends the test.
RedisClient Connect(const RedisServer& server);

// Pipelines `commands` on `client` and fails the test (fatally, so call it
// with ASSERT_NO_FATAL_FAILURE where later steps need the data) on an I/O
// error or on any error reply, naming the command (cut to 200 bytes).
void RunWithoutErrors(RedisClient& client, const std::vector<std::vector<std::string>>& commands);

}  // namespace reshard::testing
