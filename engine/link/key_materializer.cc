#include "engine/link/key_materializer.h"

#include <charconv>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
constexpr absl::Duration kCommandTimeout = absl::Seconds(30);

// "master_repl_offset:<n>" in an INFO replication reply.
absl::StatusOr<uint64_t> ReplOffset(const std::string& info) {
  constexpr std::string_view kField = "master_repl_offset:";
  size_t pos = info.find(kField);
  if (pos == std::string::npos) {
    return absl::InvalidArgumentError("INFO replication has no master_repl_offset");
  }
  pos += kField.size();
  size_t end = info.find_first_of("\r\n", pos);
  uint64_t offset = 0;
  if (!absl::SimpleAtoi(absl::string_view(info).substr(pos, end - pos), &offset)) {
    return absl::InvalidArgumentError("INFO replication: master_repl_offset is not a number");
  }
  return offset;
}

}  // namespace

std::vector<std::vector<std::string>> DumpTransaction(const std::vector<Materialization>& requests,
                                                      bool pexpiretime) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back({"MULTI"});
  for (const Materialization& request : requests) {
    commands.push_back({"SELECT", std::to_string(request.db)});
    for (const std::string& key : request.keys) {
      commands.push_back({"DUMP", key});
      commands.push_back({pexpiretime ? "PEXPIRETIME" : "PTTL", key});
    }
  }
  commands.push_back({"INFO", "replication"});
  commands.push_back({"EXEC"});
  return commands;
}

absl::StatusOr<MaterializedBatch> ParseDumpTransaction(const std::vector<Materialization>& requests,
                                                       bool pexpiretime, const RespValue& exec) {
  if (exec.IsError()) {
    return absl::FailedPreconditionError(absl::StrCat("EXEC failed: ", exec.str));
  }
  size_t expected = 1;
  for (const Materialization& request : requests) expected += 1 + 2 * request.keys.size();
  if (exec.type != RespValue::Type::kArray || exec.elements.size() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("EXEC: expected an array of ", expected, " replies"));
  }
  MaterializedBatch batch;
  // A relative PTTL (Redis < 7.0) becomes absolute at the time of the reply,
  // so a target that applies the RESTORE late still expires the key on time
  // (RESTORE ... ABSTTL: Redis >= 5.0).
  batch.absolute_ttl = true;
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  size_t next = 0;
  for (const Materialization& request : requests) {
    const RespValue& select = exec.elements[next++];
    if (select.IsError()) {
      return absl::FailedPreconditionError(
          absl::StrCat("SELECT ", request.db, " failed: ", select.str));
    }
    for (const std::string& key : request.keys) {
      const RespValue& dump = exec.elements[next++];
      const RespValue& ttl = exec.elements[next++];
      if (dump.IsError() || ttl.IsError()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "DUMP of a key in db ", request.db, " failed: ", dump.IsError() ? dump.str : ttl.str));
      }
      MaterializedKey value;
      value.key = key;
      if (dump.type == RespValue::Type::kBulkString) {
        if (ttl.type != RespValue::Type::kInteger) {
          return absl::InvalidArgumentError("PEXPIRETIME/PTTL: not an integer");
        }
        value.exists = true;
        value.payload = dump.str;
        if (ttl.integer > 0) {
          value.ttl_ms = pexpiretime ? ttl.integer : now_ms + ttl.integer;
        } else if (ttl.integer == 0 && !pexpiretime) {
          value.ttl_ms = now_ms;  // expires now; 0 would mean "no expiry"
        }
      } else if (dump.type != RespValue::Type::kNull) {
        return absl::InvalidArgumentError("DUMP: neither a payload nor nil");
      }
      batch.keys.emplace_back(request.db, std::move(value));
    }
  }
  const RespValue& info = exec.elements[next];
  if (info.type != RespValue::Type::kBulkString && info.type != RespValue::Type::kVerbatim) {
    return absl::InvalidArgumentError("INFO replication: not a string");
  }
  ASSIGN_OR_RETURN(batch.source_offset, ReplOffset(info.str));
  return batch;
}

KeyMaterializer::KeyMaterializer(asio::any_io_executor executor, RedisEndpoint source)
    : executor_(std::move(executor)), source_(std::move(source)) {}

void KeyMaterializer::Close() {
  if (connection_ != nullptr) connection_->Close();
  connection_.reset();
}

asio::awaitable<absl::Status> KeyMaterializer::Open() {
  CO_ASSIGN_OR_RETURN(connection_,
                      co_await RedisConnection::Connect(executor_, source_.address,
                                                        "source (key copies)", kConnectTimeout));
  CO_RETURN_IF_ERROR(co_await connection_->Authenticate(source_.credentials));
  // PEXPIRETIME came with Redis 7.0; before it, COMMAND INFO answers [nil].
  std::vector<std::string> command = {"COMMAND", "INFO", "PEXPIRETIME"};
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await connection_->Command(std::move(command)));
  pexpiretime_ = reply.type == RespValue::Type::kArray && reply.elements.size() == 1 &&
                 reply.elements[0].type == RespValue::Type::kArray &&
                 !reply.elements[0].elements.empty();
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<MaterializedBatch>> KeyMaterializer::Fetch(
    const std::vector<Materialization>& requests) {
  if (connection_ == nullptr) {
    absl::Status opened = co_await Open();
    if (!opened.ok()) {
      Close();
      co_return opened;
    }
  }
  std::vector<std::vector<std::string>> commands = DumpTransaction(requests, pexpiretime_);
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StatusOr<RespValue> reply =
        co_await connection_->Command(std::move(commands[i]), kCommandTimeout);
    if (!reply.ok()) {
      Close();
      co_return reply.status();
    }
    if (i + 1 < commands.size()) {
      if (reply->IsError()) {
        absl::Status error = absl::FailedPreconditionError(
            absl::StrCat(connection_->peer(), ": copying keys: ", reply->str));
        Close();
        co_return error;
      }
      continue;
    }
    absl::StatusOr<MaterializedBatch> batch = ParseDumpTransaction(requests, pexpiretime_, *reply);
    if (!batch.ok()) {
      absl::Status error(batch.status().code(),
                         absl::StrCat(connection_->peer(), ": ", batch.status().message()));
      Close();
      co_return error;
    }
    ++batches_;
    co_return batch;
  }
  co_return absl::InternalError("empty transaction");
}

}  // namespace reshard::engine
