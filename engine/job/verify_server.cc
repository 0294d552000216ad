#include "engine/job/verify_server.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/job/verify_sampling.h"
#include "engine/link/cluster_writer.h"
#include "engine/link/source_monitor.h"
#include "engine/resp/resp_writer.h"
#include "engine/route/hash_slot.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);

}  // namespace

absl::StatusOr<uint64_t> TakeSourceOffset(const RedisConnection& connection,
                                          const RespValue& reply) {
  if (reply.IsError()) return UnexpectedReply(connection, "INFO replication", reply);
  absl::StatusOr<uint64_t> offset = ParseMasterReplOffset(reply.str);
  if (!offset.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(connection.peer(), ": ", offset.status().message()));
  }
  return offset;
}

bool HasExpireTime(const ServerVersion& v) { return v.product == "Valkey" || v.major >= 7; }

bool HasFieldExpiry(const ServerVersion& v) {
  return v.product == "Valkey" ? v.major >= 9 : (v.major > 7 || (v.major == 7 && v.minor >= 4));
}

asio::awaitable<absl::Status> OpenVerifyServer(asio::any_io_executor executor,
                                               VerifyServer& server) {
  for (std::unique_ptr<RedisConnection>* connection : {&server.main, &server.side}) {
    CO_ASSIGN_OR_RETURN(*connection, co_await RedisConnection::Connect(
                                         executor, server.endpoint, server.what, kConnectTimeout));
    CO_RETURN_IF_ERROR(co_await (*connection)->Authenticate(server.endpoint.credentials));
  }
  std::vector<std::string> info = {"INFO", "server"};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await server.main->Command(std::move(info)));
  if (reply.IsError()) co_return UnexpectedReply(*server.main, "INFO server", reply);
  server.version = ServerVersionFromInfo(reply.str);
  co_return absl::OkStatus();
}

size_t VerifyTarget::NodeOf(std::string_view key) const {
  if (!cluster.has_value()) return 0;
  int owner = cluster->owner(KeyHashSlot(key));
  return owner < 0 ? 0 : static_cast<size_t>(owner);
}

asio::awaitable<absl::Status> OpenVerifyTarget(asio::any_io_executor executor,
                                               VerifyTarget& target) {
  if (!target.is_cluster()) {
    co_return co_await OpenVerifyServer(executor, target.nodes[0]);
  }
  // The applier's own discovery: CLUSTER SHARDS (or SLOTS), every slot served.
  const RedisEndpoint seed = target.nodes[0].endpoint;
  ClusterWriter::Options options;
  options.name = target.name;
  options.seeds = target.seeds;
  options.credentials = seed.credentials;
  options.tls = seed.tls;
  ClusterWriter discovery(std::move(options), executor);
  absl::Status discovered = co_await discovery.Discover();
  discovery.Close();
  CO_RETURN_IF_ERROR(discovered);
  target.cluster = discovery.slot_map();
  target.nodes.clear();
  for (const HostPort& master : target.cluster->masters()) {
    VerifyServer node;
    node.what = absl::StrCat("target '", target.name, "' node ", master.ToString());
    node.endpoint = RedisEndpoint{master, seed.credentials, seed.tls};
    CO_RETURN_IF_ERROR(co_await OpenVerifyServer(executor, node));
    target.nodes.push_back(std::move(node));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::map<int, uint64_t>>> ReadKeyspace(RedisConnection& connection) {
  std::vector<std::string> command = {"INFO", "keyspace"};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection.Command(std::move(command)));
  if (reply.type != RespValue::Type::kBulkString && reply.type != RespValue::Type::kVerbatim) {
    co_return UnexpectedReply(connection, "INFO keyspace", reply);
  }
  absl::StatusOr<std::map<int, uint64_t>> dbs = ParseKeyspaceDbs(reply.str);
  if (!dbs.ok()) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection.peer(), ": ", dbs.status().message()));
  }
  co_return std::move(*dbs);
}

void AppendKeyReads(const std::vector<std::string>& keys, const std::vector<size_t>& which,
                    const std::string& expiry_command,
                    std::vector<std::vector<std::string>>* commands) {
  for (size_t i : which) {
    commands->push_back({"DUMP", keys[i]});
    commands->push_back({expiry_command, keys[i]});
  }
}

size_t AppendKeyReads(const std::vector<std::string>& keys, const std::vector<size_t>& which,
                      const std::string& expiry_command, std::string* request) {
  for (size_t i : which) {
    AppendCommand(request, {"DUMP", keys[i]});
    AppendCommand(request, {expiry_command, keys[i]});
  }
  return 2 * which.size();
}

bool IsClusterRedirect(const RespValue& reply) {
  return reply.IsError() &&
         (absl::StartsWith(reply.str, "MOVED ") || absl::StartsWith(reply.str, "ASK "));
}

absl::StatusOr<std::vector<KeyRead>> TakeKeyReads(const RedisConnection& connection,
                                                  std::vector<RespValue>& replies, size_t* at,
                                                  size_t count, const std::string& expiry_command,
                                                  std::vector<size_t>* redirected) {
  std::vector<KeyRead> reads;
  reads.reserve(count);
  for (size_t i = 0; i < count; ++i, *at += 2) {
    if (redirected != nullptr &&
        (IsClusterRedirect(replies[*at]) || IsClusterRedirect(replies[*at + 1]))) {
      redirected->push_back(i);
      reads.emplace_back();
      continue;
    }
    std::optional<KeyRead> read = KeyReadFromReplies(std::move(replies[*at]), replies[*at + 1]);
    if (!read.has_value()) {
      return UnexpectedReply(connection, absl::StrCat("DUMP/", expiry_command),
                             replies[*at].IsError() ? replies[*at] : replies[*at + 1]);
    }
    reads.push_back(std::move(*read));
  }
  return reads;
}

}  // namespace reshard::engine
