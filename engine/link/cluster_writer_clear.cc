// ClusterWriter::DeleteKeys: the keys a cluster target's filter selects,
// deleted from its masters before a full sync of its own (a restart).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/link/cluster_writer.h"
#include "engine/link/redis_reply.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kClearTimeout = absl::Seconds(30);

}  // namespace

asio::awaitable<absl::Status> ClusterWriter::DeleteKeys(
    const std::function<bool(std::string_view)>& selected) {
  for (size_t index = 0; index < map_.masters().size(); ++index) {
    const std::string what = NodeName(static_cast<int>(index));
    RedisEndpoint endpoint{map_.masters()[index], options_.credentials, options_.tls};
    CO_ASSIGN_OR_RETURN(
        std::unique_ptr<RedisConnection> connection,
        co_await RedisConnection::Connect(executor_, endpoint, what, kClearTimeout));
    CO_RETURN_IF_ERROR(co_await connection->Authenticate(options_.credentials));
    std::string cursor = "0";
    do {
      std::vector<std::vector<std::string>> scan = {{"SCAN", cursor, "COUNT", "1000"}};
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> reply,
                          co_await connection->Pipeline(scan, kClearTimeout));
      CO_ASSIGN_OR_RETURN(auto page, ParseScanReply(*connection, std::move(reply[0])));
      cursor = std::move(page.first);
      std::vector<std::vector<std::string>> unlinks;
      for (std::string& key : page.second) {
        if (selected(key)) unlinks.push_back({"UNLINK", std::move(key)});
      }
      if (unlinks.empty()) continue;
      CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies,
                          co_await connection->Pipeline(unlinks, kClearTimeout));
      for (size_t i = 0; i < replies.size(); ++i) {
        if (replies[i].IsError()) {
          co_return UnexpectedReply(*connection, absl::StrCat("UNLINK '", unlinks[i][1], "'"),
                                    replies[i]);
        }
      }
    } while (cursor != "0");
    connection->Close();
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
