#include "engine/link/source_pause.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/link/source_monitor.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {

bool HasWritePause(const ServerVersion& version) {
  if (version.product == "Valkey") return true;
  return version.major > 6 || (version.major == 6 && version.minor >= 2);
}

SourcePause::SourcePause(std::unique_ptr<RedisConnection> connection, ServerVersion version)
    : connection_(std::move(connection)),
      version_(std::move(version)),
      write_only_(HasWritePause(version_)) {}

SourcePause::~SourcePause() { ReleaseNow(); }

asio::awaitable<absl::StatusOr<std::unique_ptr<SourcePause>>> SourcePause::Open(
    asio::any_io_executor executor, RedisEndpoint source, absl::Duration connect_timeout) {
  CO_ASSIGN_OR_RETURN(
      std::unique_ptr<RedisConnection> connection,
      co_await RedisConnection::Connect(executor, source, "source", connect_timeout));
  CO_RETURN_IF_ERROR(co_await connection->Authenticate(source.credentials));
  std::vector<std::string> info = {"INFO", "server"};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection->Command(std::move(info)));
  if (reply.type != RespValue::Type::kBulkString && reply.type != RespValue::Type::kVerbatim) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection->peer(), ": INFO server: ", reply.ToString()));
  }
  std::optional<ServerVersion> version = ServerVersionFromInfo(reply.str);
  if (!version.has_value()) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection->peer(), ": INFO server names no known version"));
  }
  co_return std::unique_ptr<SourcePause>(new SourcePause(std::move(connection), *version));
}

asio::awaitable<absl::StatusOr<uint64_t>> SourcePause::Pause(absl::Duration timeout) {
  const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  std::vector<std::string> pause = {"CLIENT", "PAUSE", absl::StrCat(ms)};
  if (write_only_) pause.push_back("WRITE");
  // One transaction: the offset is read at the instant the pause begins, and
  // an ALL pause (which holds this connection too) cannot delay the INFO.
  std::vector<std::vector<std::string>> commands = {
      {"MULTI"}, std::move(pause), {"INFO", "replication"}, {"EXEC"}};
  held_ = true;  // from the write on, it may be in force
  CO_ASSIGN_OR_RETURN(std::vector<RespValue> replies, co_await connection_->Pipeline(commands));
  const RespValue& exec = replies.back();
  for (const RespValue& reply : replies) {
    if (reply.IsError()) {
      co_return absl::FailedPreconditionError(
          absl::StrCat(connection_->peer(), ": CLIENT PAUSE: ", reply.str));
    }
  }
  if (exec.type != RespValue::Type::kArray || exec.elements.size() != 2) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection_->peer(), ": CLIENT PAUSE: EXEC answered ", exec.ToString()));
  }
  if (exec.elements[0].IsError() || exec.elements[1].IsError()) {
    const RespValue& error = exec.elements[0].IsError() ? exec.elements[0] : exec.elements[1];
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection_->peer(), ": CLIENT PAUSE: ", error.str));
  }
  absl::StatusOr<uint64_t> offset = ParseMasterReplOffset(exec.elements[1].str);
  if (!offset.ok()) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection_->peer(), ": ", offset.status().message()));
  }
  co_return *offset;
}

asio::awaitable<absl::Status> SourcePause::Unpause() {
  if (!write_only_) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection_->peer(), ": ", version_.ToString(),
                     " has no CLIENT UNPAUSE: the pause ends at its timeout"));
  }
  std::vector<std::string> unpause = {"CLIENT", "UNPAUSE"};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection_->Command(std::move(unpause)));
  if (reply.IsError()) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(connection_->peer(), ": CLIENT UNPAUSE: ", reply.str));
  }
  held_ = false;
  co_return absl::OkStatus();
}

void SourcePause::ReleaseNow() {
  if (!held_ || !write_only_ || connection_ == nullptr) return;
  held_ = false;
  std::string unpause;
  AppendCommand(&unpause, {"CLIENT", "UNPAUSE"});
  connection_->WriteSync(unpause).IgnoreError();
}

}  // namespace reshard::engine
