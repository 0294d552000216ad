#include "engine/link/key_materializer.h"

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/base/absl_view.h"
#include "engine/base/status_macros.h"
#include "engine/link/permission_error.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);

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
  in_flight_.clear();
  moved_ = false;
}

void KeyMaterializer::Interrupt() {
  if (connection_ == nullptr) return;
  asio::error_code ignored;
  connection_->socket().cancel(ignored);
}

void KeyMaterializer::SetSource(RedisEndpoint source) {
  source_ = std::move(source);
  if (in_flight_.empty()) {
    Close();
  } else {
    // Not a value of the old master may be taken from now on: the Receive
    // that waits ends (it owns the connection until then) and gives its
    // batches back for the next Open.
    moved_ = true;
    Interrupt();
  }
}

absl::Status KeyMaterializer::TakeBackInFlight(const absl::Status& error) {
  const std::string peer = connection_ != nullptr ? connection_->peer() : "source (key copies)";
  for (auto& batch : in_flight_) resend_.push_back(std::move(batch));
  in_flight_.clear();
  const bool moved = moved_;
  Close();
  if (moved) {
    return absl::UnavailableError(
        absl::StrCat(peer, ": the source moved; the copies in flight are read again from ",
                     source_.address.ToString()));
  }
  return absl::Status(error.code(), absl::StrCat(peer, ": ", error.message()));
}

absl::Status KeyMaterializer::Fail(const absl::Status& error) {
  std::string peer = connection_ != nullptr ? connection_->peer() : "source (key copies)";
  Close();
  if (absl::StartsWith(error.message(), peer)) return error;
  return absl::Status(error.code(), absl::StrCat(peer, ": ", error.message()));
}

asio::awaitable<absl::Status> KeyMaterializer::Open() {
  if (connection_ != nullptr) co_return absl::OkStatus();
  // Open only once ready: batches may be sent as soon as is_open().
  CO_ASSIGN_OR_RETURN(std::unique_ptr<RedisConnection> connection,
                      co_await RedisConnection::Connect(executor_, source_, "source (key copies)",
                                                        kConnectTimeout));
  absl::Status status = co_await connection->Authenticate(source_.credentials);
  if (status.ok()) {
    // PEXPIRETIME came with Redis 7.0; before it, COMMAND INFO answers [nil].
    std::vector<std::string> command = {"COMMAND", "INFO", "PEXPIRETIME"};
    absl::StatusOr<RespValue> reply = co_await connection->Command(std::move(command));
    if (reply.ok()) {
      pexpiretime_ = reply->type == RespValue::Type::kArray && reply->elements.size() == 1 &&
                     reply->elements[0].type == RespValue::Type::kArray &&
                     !reply->elements[0].elements.empty();
    }
    status = reply.status();
  }
  if (!status.ok()) {
    connection->Close();
    if (absl::StartsWith(status.message(), connection->peer())) co_return status;
    co_return absl::Status(status.code(), absl::StrCat(connection->peer(), ": ", status.message()));
  }
  // A batch's reply may be slow to start (a big DUMP); it is never silent
  // for longer than this while one is awaited.
  connection->source().set_idle_timeout(kReplyTimeout);
  connection_ = std::move(connection);
  // What a lost connection or a move took back, first: in order.
  while (!resend_.empty()) {
    std::vector<Materialization> batch = std::move(resend_.front());
    resend_.pop_front();
    CO_RETURN_IF_ERROR(Send(std::move(batch)));
  }
  co_return absl::OkStatus();
}

absl::Status KeyMaterializer::Send(std::vector<Materialization> requests) {
  if (connection_ == nullptr) return absl::FailedPreconditionError("key copies: not connected");
  request_.clear();
  for (const std::vector<std::string>& command : DumpTransaction(requests, pexpiretime_)) {
    std::vector<std::string_view> views(command.begin(), command.end());
    AppendCommand(&request_, views);
  }
  if (absl::Status written = connection_->WriteSync(request_); !written.ok()) {
    return Fail(written);
  }
  in_flight_.push_back(std::move(requests));
  if (request_.capacity() > (1 << 20)) std::string().swap(request_);
  return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<RespValue>> KeyMaterializer::ReadReply() {
  SocketByteSource& source = connection_->source();
  RespReplyParser parser;
  while (true) {
    size_t consumed = 0;
    RespValue value;
    ParseResult result = parser.Parse(source.Available(), &consumed, &value);
    if (result == ParseResult::kOk) {
      source.Consume(consumed);
      co_return value;
    }
    if (result == ParseResult::kError) {
      co_return absl::DataLossError(absl::StrCat("bad reply: ", parser.error()));
    }
    CO_RETURN_IF_ERROR(co_await source.Fill(source.Available().size() + 1));
  }
}

asio::awaitable<absl::StatusOr<MaterializedBatch>> KeyMaterializer::Receive() {
  if (connection_ == nullptr || in_flight_.empty()) {
    co_return absl::FailedPreconditionError("key copies: no batch in flight");
  }
  // MULTI's +OK, a +QUEUED per command (SELECT, DUMP and PEXPIRETIME per
  // key, INFO), then EXEC's array.
  size_t before_exec = 2;
  for (const Materialization& request : in_flight_.front()) {
    before_exec += 1 + 2 * request.keys.size();
  }
  for (size_t i = 0; i < before_exec; ++i) {
    absl::StatusOr<RespValue> reply = co_await ReadReply();
    if (moved_ || (!reply.ok() && reply.status().code() == absl::StatusCode::kUnavailable)) {
      co_return TakeBackInFlight(reply.status());
    }
    if (!reply.ok()) co_return Fail(reply.status());
    if (reply->IsError()) {
      // Replies are still pending: the categories come from the built-in table.
      // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
      std::string why = reply->str;
      if (IsAclRefusal(why)) {
        std::string sent;
        why = co_await connection_->ExplainAclRefusal(std::move(sent), std::move(why), false);
      }
      co_return Fail(absl::FailedPreconditionError(absl::StrCat("copying keys: ", why)));
    }
  }
  absl::StatusOr<RespValue> exec = co_await ReadReply();
  if (moved_ || (!exec.ok() && exec.status().code() == absl::StatusCode::kUnavailable)) {
    co_return TakeBackInFlight(exec.status());
  }
  if (!exec.ok()) co_return Fail(exec.status());
  absl::StatusOr<MaterializedBatch> batch =
      ParseDumpTransaction(in_flight_.front(), pexpiretime_, *exec);
  if (!batch.ok()) co_return Fail(batch.status());
  in_flight_.pop_front();
  ++batches_;
  co_return batch;
}

asio::awaitable<absl::StatusOr<MaterializedBatch>> KeyMaterializer::Fetch(
    const std::vector<Materialization>& requests) {
  CO_RETURN_IF_ERROR(co_await Open());
  CO_RETURN_IF_ERROR(Send(requests));
  co_return co_await Receive();
}

}  // namespace reshard::engine
