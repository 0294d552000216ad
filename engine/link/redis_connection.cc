#include "engine/link/redis_connection.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "asio/connect.hpp"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"
#include "asio/write.hpp"
#include "engine/base/await_timeout.h"
#include "engine/base/status_macros.h"
#include "engine/link/permission_error.h"
#include "engine/resp/resp_writer.h"

namespace reshard::engine {
namespace {

using asio::ip::tcp;

asio::awaitable<absl::StatusOr<NetStream>> ConnectStream(
    asio::any_io_executor executor, RedisEndpoint endpoint, std::string peer,
    std::shared_ptr<asio::ssl::context> context) {
  const HostPort& address = endpoint.address;
  tcp::resolver resolver(executor);
  asio::error_code ec;
  auto endpoints = co_await resolver.async_resolve(address.host, std::to_string(address.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return absl::UnavailableError(absl::StrCat(peer, ": cannot resolve: ", ec.message()));
  }
  tcp::socket socket(executor);
  co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return absl::UnavailableError(absl::StrCat(peer, ": cannot connect: ", ec.message()));
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (context == nullptr) co_return NetStream(std::move(socket));
  NetStream stream(std::move(socket), std::move(context));
  absl::Status handshake = co_await stream.ClientHandshake(endpoint.tls, address.host, peer);
  if (!handshake.ok()) {
    stream.Close();
    co_return handshake;
  }
  co_return std::move(stream);
}

}  // namespace

RedisConnection::RedisConnection(NetStream stream, std::string peer)
    : stream_(std::move(stream)), peer_(std::move(peer)), source_(&stream_, peer_) {}

asio::awaitable<absl::StatusOr<std::unique_ptr<RedisConnection>>> RedisConnection::Connect(
    asio::any_io_executor executor, const RedisEndpoint& endpoint, std::string what,
    absl::Duration timeout) {
  std::string peer = absl::StrCat(what, " ", endpoint.address.ToString());
  std::shared_ptr<asio::ssl::context> context;
  if (endpoint.tls.enabled) {
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> made =
        MakeClientTlsContext(endpoint.tls, absl::StrCat(peer, ": tls"));
    if (!made.ok()) co_return made.status();
    context = std::move(*made);
  }
  std::optional<absl::StatusOr<NetStream>> stream =
      co_await WithTimeout(ConnectStream(executor, endpoint, peer, std::move(context)), timeout);
  if (!stream.has_value()) {
    co_return absl::UnavailableError(absl::StrCat(
        peer,
        endpoint.tls.enabled ? ": cannot connect (TCP and TLS handshake): timed out after "
                             : ": cannot connect: timed out after ",
        absl::FormatDuration(timeout)));
  }
  if (!stream->ok()) co_return stream->status();
  co_return std::unique_ptr<RedisConnection>(
      new RedisConnection(std::move(stream->value()), std::move(peer)));
}

asio::awaitable<absl::StatusOr<std::unique_ptr<RedisConnection>>> RedisConnection::Connect(
    asio::any_io_executor executor, const HostPort& address, std::string what,
    absl::Duration timeout) {
  RedisEndpoint endpoint;
  endpoint.address = address;
  co_return co_await Connect(std::move(executor), endpoint, std::move(what), timeout);
}

asio::awaitable<absl::StatusOr<RespValue>> RedisConnection::ReadReply() {
  RespReplyParser parser;
  while (true) {
    size_t consumed = 0;
    RespValue value;
    ParseResult result = parser.Parse(source_.Available(), &consumed, &value);
    if (result == ParseResult::kOk) {
      source_.Consume(consumed);
      co_return value;
    }
    if (result == ParseResult::kError) {
      co_return absl::DataLossError(absl::StrCat(peer_, ": bad reply: ", parser.error()));
    }
    CO_RETURN_IF_ERROR(co_await source_.Fill(source_.Available().size() + 1));
  }
}

asio::awaitable<absl::StatusOr<RespValue>> RedisConnection::Command(std::vector<std::string> args,
                                                                    absl::Duration timeout) {
  std::string request;
  std::vector<std::string_view> views(args.begin(), args.end());
  AppendCommand(&request, views);
  CO_RETURN_IF_ERROR(WriteSync(request));
  std::optional<absl::StatusOr<RespValue>> reply = co_await WithTimeout(ReadReply(), timeout);
  if (!reply.has_value()) {
    co_return absl::UnavailableError(
        absl::StrCat(peer_, ": no reply to ", args[0], " within ", absl::FormatDuration(timeout)));
  }
  if (!reply->ok()) co_return std::move(*reply);
  std::string name = AclCommandName(args);
  NoteReply(name, **reply);
  if ((*reply)->IsError() && IsAclRefusal((*reply)->str)) {
    // (Named arguments: GCC 12 miscompiles temporaries in a co_await.)
    std::string error = std::move((*reply)->str);
    bool in_step = InStep();
    (*reply)->str = co_await ExplainAclRefusal(std::move(name), std::move(error), in_step);
  }
  co_return std::move(*reply);
}

void RedisConnection::NoteReply(const std::string& name, const RespValue& reply) {
  if (name == "multi" && !reply.IsError()) in_multi_ = true;
  if (name == "exec" || name == "discard") in_multi_ = false;
}

asio::awaitable<std::string> RedisConnection::AclCategories(const std::string& command) {
  std::string request;
  AppendCommand(&request, {"COMMAND", "INFO", command});
  if (!WriteSync(request).ok()) co_return "";
  std::optional<absl::StatusOr<RespValue>> reply =
      co_await WithTimeout(ReadReply(), absl::Seconds(5));
  if (!reply.has_value() || !reply->ok()) {
    Close();  // a late reply would be taken for the next command's
    co_return "";
  }
  // [[name, arity, flags, first, last, step, [@category ...], ...]]; an
  // error (the user may not run COMMAND) or nil (an unknown name) says nothing.
  const RespValue& info = **reply;
  if (info.type != RespValue::Type::kArray || info.elements.size() != 1) co_return "";
  const RespValue& entry = info.elements[0];
  if (entry.type != RespValue::Type::kArray || entry.elements.size() < 7) co_return "";
  std::vector<std::string> categories;
  for (const RespValue& category : entry.elements[6].elements) categories.push_back(category.str);
  co_return absl::StrJoin(categories, " ");
}

asio::awaitable<std::string> RedisConnection::ExplainAclRefusal(std::string sent, std::string error,
                                                                bool ask_server) {
  AclRefusal refusal;
  refusal.peer = peer_;
  refusal.user = user_;
  refusal.sent = std::move(sent);
  refusal.error = std::move(error);
  std::string command = RefusedCommand(refusal);
  if (ask_server && !command.empty()) refusal.categories = co_await AclCategories(command);
  co_return AclRefusalMessage(refusal);
}

absl::Status RedisConnection::Send(const std::vector<std::vector<std::string>>& commands) {
  if (commands.empty()) return absl::OkStatus();
  std::string request;
  std::vector<std::string_view> views;
  for (const std::vector<std::string>& args : commands) {
    views.assign(args.begin(), args.end());
    AppendCommand(&request, views);
  }
  RETURN_IF_ERROR(WriteSync(request));
  for (const std::vector<std::string>& args : commands) pending_.push_back(AclCommandName(args));
  return absl::OkStatus();
}

asio::awaitable<absl::Status> RedisConnection::SendAsync(
    const std::vector<std::vector<std::string>>& commands, absl::Duration timeout) {
  std::vector<const std::vector<std::string>*> pointers;
  pointers.reserve(commands.size());
  for (const std::vector<std::string>& args : commands) pointers.push_back(&args);
  co_return co_await SendAsync(pointers, timeout);
}

asio::awaitable<absl::Status> RedisConnection::SendAsync(
    const std::vector<const std::vector<std::string>*>& commands, absl::Duration timeout) {
  if (commands.empty()) co_return absl::OkStatus();
  std::string request;
  std::vector<std::string_view> views;
  for (const std::vector<std::string>* args : commands) {
    views.assign(args->begin(), args->end());
    AppendCommand(&request, views);
  }
  for (const std::vector<std::string>* args : commands) pending_.push_back(AclCommandName(*args));
  std::optional<absl::Status> written = co_await WithTimeout(WriteAsync(request), timeout);
  if (!written.has_value()) {
    Close();
    co_return absl::UnavailableError(absl::StrCat(peer_, ": could not write ", commands.size(),
                                                  " commands (", request.size(), " bytes) within ",
                                                  absl::FormatDuration(timeout)));
  }
  co_return *written;
}

asio::awaitable<absl::Status> RedisConnection::WriteAsync(std::string_view bytes) {
  asio::error_code ec;
  co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return absl::UnavailableError(absl::StrCat(peer_, ": write failed: ", ec.message()));
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RedisConnection::ReadRepliesInto(size_t count,
                                                               std::vector<RespValue>* out,
                                                               std::vector<std::string>* names) {
  RespReplyParser parser;
  size_t got = 0;
  while (got < count) {
    // Every whole reply in the buffer first: one read serves many replies.
    std::string_view available = source_.Available();
    size_t used = 0;
    while (got < count) {
      size_t consumed = 0;
      RespValue value;
      ParseResult result = parser.Parse(available.substr(used), &consumed, &value);
      if (result == ParseResult::kNeedMore) break;
      if (result == ParseResult::kError) {
        source_.Consume(used);
        co_return absl::DataLossError(absl::StrCat(peer_, ": bad reply: ", parser.error()));
      }
      used += consumed;
      std::string name;
      if (!pending_.empty()) {
        name = std::move(pending_.front());
        pending_.pop_front();
      }
      NoteReply(name, value);
      out->push_back(std::move(value));
      names->push_back(std::move(name));
      ++got;
    }
    source_.Consume(used);
    if (got < count) CO_RETURN_IF_ERROR(co_await source_.Fill(source_.Available().size() + 1));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::vector<RespValue>>> RedisConnection::ReadReplies(
    size_t count, absl::Duration timeout) {
  std::vector<RespValue> replies;
  CO_RETURN_IF_ERROR(co_await ReadRepliesKeepingPart(count, timeout, &replies));
  co_return replies;
}

asio::awaitable<absl::Status> RedisConnection::ReadRepliesKeepingPart(size_t count,
                                                                      absl::Duration timeout,
                                                                      std::vector<RespValue>* out) {
  std::vector<RespValue>& replies = *out;
  replies.clear();
  replies.reserve(count);
  if (count == 0) co_return absl::OkStatus();
  std::vector<std::string> names;
  std::optional<absl::Status> read =
      co_await WithTimeout(ReadRepliesInto(count, &replies, &names), timeout);
  if (!read.has_value()) {
    co_return absl::UnavailableError(absl::StrCat(peer_, ": ", replies.size(), " of ", count,
                                                  " pipelined replies within ",
                                                  absl::FormatDuration(timeout)));
  }
  CO_RETURN_IF_ERROR(*read);
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i].IsError() || !IsAclRefusal(replies[i].str)) continue;
    std::string error = std::move(replies[i].str);
    bool in_step = InStep();
    replies[i].str = co_await ExplainAclRefusal(std::move(names[i]), std::move(error), in_step);
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::vector<RespValue>>> RedisConnection::Pipeline(
    const std::vector<std::vector<std::string>>& commands, absl::Duration timeout) {
  CO_RETURN_IF_ERROR(Send(commands));
  co_return co_await ReadReplies(commands.size(), timeout);
}

asio::awaitable<absl::Status> RedisConnection::Authenticate(const Credentials& credentials) {
  if (credentials.password.empty()) co_return absl::OkStatus();
  user_ = credentials.username.empty() ? "default" : credentials.username;
  std::vector<std::string> args = {"AUTH"};
  if (!credentials.username.empty()) args.push_back(credentials.username);
  args.push_back(credentials.password);
  CO_ASSIGN_OR_RETURN(RespValue reply, co_await Command(std::move(args)));
  if (reply.type == RespValue::Type::kError) {
    co_return absl::PermissionDeniedError(absl::StrCat(peer_, ": AUTH failed: ", reply.str));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::string>> RedisConnection::ReadLine(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::string_view avail = source_.Available();
    size_t skip = 0;
    while (skip < avail.size() && avail[skip] == '\n') ++skip;  // keepalives
    source_.Consume(skip);
    avail = source_.Available();
    size_t eol = avail.find("\r\n");
    if (eol != std::string_view::npos) {
      std::string line(avail.substr(0, eol));
      source_.Consume(eol + 2);
      co_return line;
    }
    if (avail.size() > 4096) {
      co_return absl::DataLossError(absl::StrCat(peer_, ": line longer than 4096 bytes"));
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      co_return absl::UnavailableError(
          absl::StrCat(peer_, ": no reply within ", absl::FormatDuration(timeout)));
    }
    std::optional<absl::Status> filled = co_await WithTimeout(source_.Fill(avail.size() + 1), left);
    if (!filled.has_value()) {
      co_return absl::UnavailableError(
          absl::StrCat(peer_, ": no reply within ", absl::FormatDuration(timeout)));
    }
    CO_RETURN_IF_ERROR(*filled);
  }
}

absl::Status RedisConnection::WriteSync(std::string_view bytes) {
  asio::error_code ec;
  stream_.WriteAll(bytes, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(peer_, ": write failed: ", ec.message()));
  }
  return absl::OkStatus();
}

void RedisConnection::Close() { stream_.Close(); }

}  // namespace reshard::engine
