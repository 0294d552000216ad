#include "tests/support/test_servers.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"

namespace reshard::testing {

std::unique_ptr<RedisServer> StartServer(RedisServerOptions options) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

RedisClient Connect(const RedisServer& server) {
  absl::StatusOr<RedisClient> client = server.Client();
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(client).value();
}

void RunWithoutErrors(RedisClient& client, const std::vector<std::vector<std::string>>& commands) {
  absl::StatusOr<std::vector<engine::RespValue>> replies = client.Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  for (size_t i = 0; i < replies->size(); ++i) {
    ASSERT_FALSE((*replies)[i].IsError())
        << absl::StrJoin(commands[i], " ").substr(0, 200) << ": " << (*replies)[i].ToString();
  }
}

}  // namespace reshard::testing
