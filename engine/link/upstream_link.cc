#include "engine/link/upstream_link.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/status_macros.h"
#include "engine/link/permission_error.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {

UpstreamLink::UpstreamLink(asio::any_io_executor executor, RedisEndpoint source,
                           uint16_t announce_port)
    : executor_(std::move(executor)), source_(std::move(source)), announce_port_(announce_port) {}

asio::awaitable<absl::Status> UpstreamLink::Connect(absl::Duration timeout) {
  Close();
  CO_ASSIGN_OR_RETURN(connection_,
                      co_await RedisConnection::Connect(executor_, source_, "source", timeout));
  const std::string& peer = connection_->peer();

  // A source that needs a password answers PING with -NOAUTH; AUTH first then.
  CO_RETURN_IF_ERROR(co_await connection_->Authenticate(source_.credentials));
  // (Named vectors, not braced lists: GCC 12 miscompiles those in co_await.)
  std::vector<std::string> ping = {"PING"};
  CO_ASSIGN_OR_RETURN(RespValue pong, co_await connection_->Command(std::move(ping)));
  if (pong.type == RespValue::Type::kError) {
    if (absl::StartsWith(pong.str, "NOAUTH")) {
      co_return absl::PermissionDeniedError(absl::StrCat(peer, ": the source requires a password (",
                                                         pong.str, "); set source.password"));
    }
    // A server that loads its dataset (restarted, or a demoted master
    // reloading from its new master) answers once it has: transient.
    if (absl::StartsWith(pong.str, "LOADING")) {
      co_return absl::UnavailableError(
          absl::StrCat(peer, ": the source is loading its dataset (", pong.str, ")"));
    }
    co_return absl::FailedPreconditionError(absl::StrCat(peer, ": PING failed: ", pong.str));
  }
  // Errors to REPLCONF are ignorable (old servers); the capabilities matter
  // only for the framing, which we accept in both forms. An ACL refusal is
  // not: without +replconf the source would refuse every ACK too.
  std::vector<std::vector<std::string>> replconfs = {
      {"REPLCONF", "listening-port", std::to_string(announce_port_)},
      {"REPLCONF", "capa", "eof", "capa", "psync2"}};
  for (auto& replconf : replconfs) {
    absl::StatusOr<RespValue> reply = co_await connection_->Command(std::move(replconf));
    CO_RETURN_IF_ERROR(reply.status());
    if (reply->IsError() && IsAclRefusal(reply->str)) {
      co_return absl::PermissionDeniedError(reply->str);
    }
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> UpstreamLink::AnnounceVersion(std::string version) {
  std::vector<std::string> replconf = {"REPLCONF", "version", std::move(version)};
  absl::StatusOr<RespValue> reply = co_await connection_->Command(std::move(replconf));
  co_return reply.status();
}

asio::awaitable<absl::StatusOr<FullResync>> UpstreamLink::RequestFullSync() {
  std::string request;
  AppendCommand(&request, {"PSYNC", "?", "-1"});
  CO_RETURN_IF_ERROR(connection_->WriteSync(request));
  // The source may take a while to fork; it sends "\n" keepalives meanwhile.
  CO_ASSIGN_OR_RETURN(std::string line, co_await connection_->ReadLine(absl::Minutes(5)));
  const std::string& peer = connection_->peer();
  if (absl::StartsWith(line, "+FULLRESYNC ")) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    FullResync resync;
    if (parts.size() != 3 || parts[1].size() != 40 || !absl::SimpleAtoi(parts[2], &resync.offset)) {
      co_return absl::DataLossError(absl::StrCat(peer, ": malformed PSYNC reply '", line, "'"));
    }
    resync.replid = parts[1];
    co_return resync;
  }
  if (absl::StartsWith(line, "-LOADING") || absl::StartsWith(line, "-NOMASTERLINK")) {
    co_return absl::UnavailableError(
        absl::StrCat(peer, ": not ready for a sync: ", line.substr(1)));
  }
  if (absl::StartsWith(line, "-NOPERM")) {
    // (Named arguments: GCC 12 miscompiles temporaries in a co_await.)
    std::string sent = "psync", error = line.substr(1);
    std::string refusal =
        co_await connection_->ExplainAclRefusal(std::move(sent), std::move(error), true);
    co_return absl::PermissionDeniedError(refusal);
  }
  if (absl::StartsWith(line, "-")) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(peer, ": PSYNC refused: ", line.substr(1)));
  }
  co_return absl::FailedPreconditionError(
      absl::StrCat(peer, ": unexpected PSYNC reply '", line, "'"));
}

asio::awaitable<absl::StatusOr<std::string>> UpstreamLink::RequestPartialSync(
    const std::string& replid, uint64_t offset) {
  std::string request;
  std::string offset_text = std::to_string(offset);
  AppendCommand(&request, {"PSYNC", replid, offset_text});
  CO_RETURN_IF_ERROR(connection_->WriteSync(request));
  CO_ASSIGN_OR_RETURN(std::string line, co_await connection_->ReadLine(absl::Seconds(30)));
  const std::string peer = connection_->peer();
  if (line == "+CONTINUE") co_return replid;
  if (absl::StartsWith(line, "+CONTINUE ")) co_return line.substr(10);
  if (absl::StartsWith(line, "-NOPERM")) {
    std::string sent = "psync", error = line.substr(1);
    std::string refusal =
        co_await connection_->ExplainAclRefusal(std::move(sent), std::move(error), true);
    Close();
    co_return absl::PermissionDeniedError(refusal);
  }
  Close();
  if (absl::StartsWith(line, "+FULLRESYNC")) {
    co_return absl::FailedPreconditionError(absl::StrCat(
        peer, ": cannot continue the stream at offset ", offset, " of replication id ", replid,
        " (the source answered FULLRESYNC: its backlog no longer holds that offset, or it "
        "restarted); the targets need a new snapshot: create a new job"));
  }
  if (absl::StartsWith(line, "-LOADING") || absl::StartsWith(line, "-NOMASTERLINK")) {
    co_return absl::UnavailableError(absl::StrCat(peer, ": not ready: ", line.substr(1)));
  }
  co_return absl::FailedPreconditionError(
      absl::StrCat(peer, ": PSYNC ", replid, " ", offset, " refused: ", line));
}

asio::awaitable<absl::StatusOr<RdbFraming>> UpstreamLink::ReadRdbFraming(absl::Duration timeout) {
  CO_ASSIGN_OR_RETURN(std::string line, co_await connection_->ReadLine(timeout));
  const std::string& peer = connection_->peer();
  RdbFraming framing;
  if (absl::StartsWith(line, "$EOF:")) {
    framing.eof_marked = true;
    framing.mark = line.substr(5);
    if (framing.mark.size() != 40) {
      co_return absl::DataLossError(absl::StrCat(peer, ": malformed RDB end mark in '", line, "'"));
    }
    co_return framing;
  }
  if (absl::StartsWith(line, "$") && absl::SimpleAtoi(line.substr(1), &framing.length)) {
    co_return framing;
  }
  if (absl::StartsWith(line, "-")) {
    co_return absl::FailedPreconditionError(
        absl::StrCat(peer, ": the source failed the sync: ", line.substr(1)));
  }
  co_return absl::DataLossError(
      absl::StrCat(peer, ": expected the RDB payload header, got '", line.substr(0, 64), "'"));
}

asio::awaitable<absl::Status> UpstreamLink::FinishRdbFraming(const RdbFraming& framing,
                                                             uint64_t rdb_bytes) {
  const std::string& peer = connection_->peer();
  if (!framing.eof_marked) {
    if (rdb_bytes != framing.length) {
      co_return absl::DataLossError(absl::StrCat(peer, ": RDB payload announced ", framing.length,
                                                 " bytes but the RDB ended after ", rdb_bytes));
    }
    co_return absl::OkStatus();
  }
  SocketByteSource& source = connection_->source();
  CO_RETURN_IF_ERROR(co_await source.Fill(framing.mark.size()));
  if (source.Available().substr(0, framing.mark.size()) != framing.mark) {
    co_return absl::DataLossError(absl::StrCat(
        peer, ": the RDB did not end with its EOF mark at payload offset ", rdb_bytes));
  }
  source.Consume(framing.mark.size());
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<RespValue>> UpstreamLink::Command(std::vector<std::string> args) {
  co_return co_await connection_->Command(std::move(args));
}

absl::Status UpstreamLink::SendAck(uint64_t offset) {
  if (connection_ == nullptr) return absl::OkStatus();
  std::string ack;
  std::string offset_text = std::to_string(offset);
  AppendCommand(&ack, {"REPLCONF", "ACK", offset_text});
  return connection_->WriteSync(ack);
}

void UpstreamLink::SetSource(RedisEndpoint source) { source_ = std::move(source); }

void UpstreamLink::Interrupt() {
  if (connection_ == nullptr) return;
  asio::error_code ignored;
  connection_->socket().cancel(ignored);
}

void UpstreamLink::Close() {
  if (connection_ != nullptr) connection_->Close();
  connection_.reset();
}

}  // namespace reshard::engine
