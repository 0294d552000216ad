#include "engine/link/downstream_session.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "asio/write.hpp"
#include "engine/base/absl_view.h"
#include "engine/resp/resp_parser.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

// Handshake commands are small; a replica that sends more is not a replica.
constexpr size_t kMaxReplicaBuffer = 64 << 10;

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

}  // namespace

DownstreamSession::DownstreamSession(NetStream stream, Options options, DownstreamEvents* events)
    : stream_(std::move(stream)),
      options_(std::move(options)),
      events_(events),
      wake_writer_(stream_.get_executor(), asio::steady_timer::time_point::max()),
      handshake_timer_(stream_.get_executor()) {
  asio::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown" : absl::StrCat(endpoint.address().to_string(), ":", endpoint.port());
  peer_host_ = ec ? "unknown" : endpoint.address().to_string();
}

void DownstreamSession::Start() {
  auto self = shared_from_this();
  asio::co_spawn(
      stream_.get_executor(), [self]() { return self->ReadLoop(); }, asio::detached);
  asio::co_spawn(
      stream_.get_executor(), [self]() { return self->WriteLoop(); }, asio::detached);
  StartHandshakeTimer();
}

void DownstreamSession::StartHandshakeTimer() {
  absl::Duration timeout = options_.handshake_timeout;
  if (timeout == absl::InfiniteDuration()) return;
  handshake_timer_.expires_after(
      absl::ToChronoNanoseconds(std::max(timeout, absl::ZeroDuration())));
  // A weak reference: the timer must not keep a closed session alive. The
  // expiry may already be queued when PSYNC is answered or the session
  // closes, so the handler looks again.
  std::weak_ptr<DownstreamSession> weak = weak_from_this();
  handshake_timer_.async_wait([weak, timeout](const asio::error_code& ec) {
    std::shared_ptr<DownstreamSession> self = weak.lock();
    if (ec || self == nullptr || self->synced_ || !self->open_) return;
    self->Close(absl::DeadlineExceededError(
        absl::StrCat("replica ", self->peer_, " did not complete its handshake within ",
                     absl::ToInt64Milliseconds(timeout), " ms")));
  });
}

void DownstreamSession::Enqueue(std::string_view bytes) {
  if (!open_) return;
  pending_.append(bytes.data(), bytes.size());
  wake_writer_.cancel();
}

void DownstreamSession::Close(absl::Status why) {
  if (!open_) return;
  open_ = false;
  stream_.Close();
  wake_writer_.cancel();
  handshake_timer_.cancel();
  events_->OnSessionClosed(this, why);
}

asio::awaitable<void> DownstreamSession::WriteLoop() {
  auto self = shared_from_this();
  std::string out;
  while (open_) {
    if (pending_.empty()) {
      asio::error_code ec;
      wake_writer_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_writer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    out.clear();
    out.swap(pending_);
    in_flight_ = out.size();
    // The producer may refill pending_ while this write is in flight.
    events_->OnPendingTaken();
    asio::error_code ec;
    co_await asio::async_write(stream_, asio::buffer(out),
                               asio::redirect_error(asio::use_awaitable, ec));
    in_flight_ = 0;
    if (ec) {
      Close(absl::UnavailableError(absl::StrCat("write to ", peer_, " failed: ", ec.message())));
      co_return;
    }
    if (open_) events_->OnWritten(out.size());
    // Don't keep a snapshot-sized buffer around once the stream is quiet.
    if (out.capacity() > (4 << 20)) std::string().swap(out);
  }
}

asio::awaitable<void> DownstreamSession::ReadLoop() {
  auto self = shared_from_this();
  RespParser parser(RespParser::Limits{.max_args = 64, .max_bulk = 4096});
  std::string buffer;
  char chunk[4096];
  while (open_) {
    asio::error_code ec;
    size_t n = co_await stream_.async_read_some(asio::buffer(chunk),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      Close(absl::UnavailableError(absl::StrCat(
          "replica ", peer_, " disconnected: ", ec == asio::error::eof ? "closed" : ec.message())));
      co_return;
    }
    buffer.append(chunk, n);
    size_t used = 0;
    while (open_) {
      RespCommand command;
      size_t consumed = 0;
      ParseResult result = parser.Parse(std::string_view(buffer).substr(used), &consumed, &command);
      if (result == ParseResult::kNeedMore) break;
      if (result == ParseResult::kError) {
        // Best effort, before the close: the replica's log then says why.
        std::string reply;
        AppendError(&reply, absl::StrCat("ERR reshard: protocol error: ", parser.error()));
        stream_.WriteAll(reply, ec);
        Close(absl::DataLossError(
            absl::StrCat("replica ", peer_, " sent garbage: ", parser.error())));
        co_return;
      }
      used += consumed;
      if (command.args.empty()) continue;  // keepalive newline
      std::string reply;
      HandleCommand(command.args, &reply);
      if (!reply.empty()) Enqueue(reply);
    }
    buffer.erase(0, used);
    if (buffer.size() > kMaxReplicaBuffer) {
      Close(absl::DataLossError(absl::StrCat("replica ", peer_, " sent an oversized command")));
      co_return;
    }
  }
}

void DownstreamSession::HandleCommand(const std::vector<std::string_view>& args,
                                      std::string* reply) {
  std::string name = Lower(args[0]);
  const Credentials& credentials = options_.credentials;
  bool auth_required = !credentials.password.empty();

  if (synced_) {
    // After PSYNC a replica only sends REPLCONF ACK <offset> [FACK <offset>].
    uint64_t offset = 0;
    if (name == "replconf" && args.size() >= 3 && absl::EqualsIgnoreCase(AsAbsl(args[1]), "ack") &&
        absl::SimpleAtoi(AsAbsl(args[2]), &offset)) {
      last_ack_time_ = absl::Now();
      events_->OnAck(offset);
    }
    return;
  }
  if (name == "auth") {
    if (args.size() < 2 || args.size() > 3) {
      return AppendError(reply, "ERR wrong number of arguments for 'auth' command");
    }
    std::string_view user = args.size() == 3 ? args[1] : "default";
    std::string_view expected_user =
        credentials.username.empty() ? "default" : std::string_view(credentials.username);
    if (auth_required && user == expected_user && args.back() == credentials.password) {
      authenticated_ = true;
      return AppendSimpleString(reply, "OK");
    }
    if (!auth_required)
      return AppendError(reply, "ERR AUTH called without any password configured");
    return AppendError(reply, "WRONGPASS invalid username-password pair or user is disabled.");
  }
  if (auth_required && !authenticated_)
    return AppendError(reply, "NOAUTH Authentication required.");
  if (name == "ping") return AppendSimpleString(reply, "PONG");
  if (name == "replconf") {
    // Capabilities other than eof (psync2; Redis 8's rdb-channel-repl, Valkey's
    // dual-channel and skip-rdb-checksum) need no answer: they only come into
    // play when PSYNC answers +RDBCHANNELSYNC / +DUALCHANNELSYNC, which this
    // master never does, so such replicas sync on one channel, with a checksum.
    for (size_t i = 1; i + 1 < args.size(); i += 2) {
      if (absl::EqualsIgnoreCase(AsAbsl(args[i]), "capa") &&
          absl::EqualsIgnoreCase(AsAbsl(args[i + 1]), "eof")) {
        capa_eof_ = true;
      } else if (absl::EqualsIgnoreCase(AsAbsl(args[i]), "version")) {
        announced_version_ = std::string(args[i + 1]);
      } else if (absl::EqualsIgnoreCase(AsAbsl(args[i]), "listening-port")) {
        listening_port_ = std::string(args[i + 1]);
      }
    }
    return AppendSimpleString(reply, "OK");
  }
  if (name == "psync") return HandlePsync(args, reply);
  if (name == "sync") {
    return AppendError(reply, "ERR reshard: SYNC is not supported; the replica must use PSYNC");
  }
  AppendError(reply, absl::StrCat("ERR reshard: unknown command '", std::string(args[0]),
                                  "' on a replication listener"));
}

void DownstreamSession::MarkSynced() {
  synced_ = true;
  last_ack_time_ = absl::Now();
  handshake_timer_.cancel();
}

void DownstreamSession::HandlePsync(const std::vector<std::string_view>& args, std::string* reply) {
  if (args.size() != 3) {
    return AppendError(reply, "ERR wrong number of arguments for 'psync' command");
  }
  if (!capa_eof_) {
    return AppendError(reply,
                       "ERR reshard streams snapshots with an EOF mark: the replica must announce "
                       "REPLCONF capa eof (Redis >= 2.8.18)");
  }
  PsyncAnswer answer =
      events_->OnPsync(shared_from_this(), PsyncRequest{.replid = args[1],
                                                        .offset = args[2],
                                                        .announced_version = announced_version_,
                                                        .peer_host = peer_host_,
                                                        .listening_port = listening_port_});
  switch (answer.kind) {
    case PsyncAnswer::Kind::kFullResync:
      MarkSynced();
      return AppendSimpleString(reply,
                                absl::StrCat("FULLRESYNC ", answer.replid, " ", answer.offset));
    case PsyncAnswer::Kind::kContinue:
      MarkSynced();
      AppendSimpleString(reply, absl::StrCat("CONTINUE ", answer.replid));
      reply->append(answer.backlog);
      return;
    case PsyncAnswer::Kind::kRefused:
      return AppendError(reply, answer.error);
  }
}

}  // namespace reshard::engine
