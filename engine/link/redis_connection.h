#pragma once

// RedisConnection: reshardd as a client of a Redis server (the source, or a
// managed target), on the job's event loop, over TCP or TLS (the endpoint's
// tls options; nothing is sent before the TLS handshake succeeded). Requests are written whole;
// replies are parsed from the connection's SocketByteSource, which the
// upstream link later hands to the RDB reader and the stream parser.
// Not thread-safe: use from the job thread only.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "engine/io/endpoint.h"
#include "engine/io/net_stream.h"
#include "engine/io/socket_byte_source.h"
#include "engine/resp/resp_reply.h"

namespace reshard::engine {

class RedisConnection {
 public:
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Resolves and connects to the endpoint's address, with TLS when its tls
  // options say so (the timeout covers the handshake). `what` names the peer
  // in errors ("source", "target 'a' replica"). UNAVAILABLE on failure or
  // timeout; FAILED_PRECONDITION when the server's certificate does not verify
  // ("source 127.0.0.1:6379: TLS handshake failed: certificate verify failed
  // (unable to get local issuer certificate)"); INVALID_ARGUMENT when a TLS
  // file cannot be loaded. Does not AUTH (Authenticate does).
  static asio::awaitable<absl::StatusOr<std::unique_ptr<RedisConnection>>> Connect(
      asio::any_io_executor executor, const RedisEndpoint& endpoint, std::string what,
      absl::Duration timeout);
  // Plain TCP to `address`.
  static asio::awaitable<absl::StatusOr<std::unique_ptr<RedisConnection>>> Connect(
      asio::any_io_executor executor, const HostPort& address, std::string what,
      absl::Duration timeout);

  // Sends one command and reads its reply. A Redis error reply is returned as
  // a RespValue of type kError, not as a Status; a Status error means the
  // connection failed, timed out or sent garbage. An ACL refusal (-NOPERM)
  // comes back with the text of ExplainAclRefusal instead of Redis's own, here
  // and from Pipeline/ReadReplies.
  asio::awaitable<absl::StatusOr<RespValue>> Command(std::vector<std::string> args,
                                                     absl::Duration timeout = absl::Seconds(10));
  // Sends every command in one write, then reads one reply per command, in
  // order (pipelining). `timeout` bounds the reading of all the replies.
  // Redis error replies are RespValues of type kError, as for Command.
  asio::awaitable<absl::StatusOr<std::vector<RespValue>>> Pipeline(
      const std::vector<std::vector<std::string>>& commands,
      absl::Duration timeout = absl::Seconds(30));
  // Pipeline in two halves, so that several servers work at once: Send
  // writes every command in one write; ReadReplies reads the next `count`
  // replies (UNAVAILABLE naming how many came when `timeout` passes: the
  // connection is then out of step and must be closed).
  absl::Status Send(const std::vector<std::vector<std::string>>& commands);
  // Send without blocking the thread: a server that reads slowly (or not at
  // all) holds only this coroutine. UNAVAILABLE when the write fails or does
  // not end within `timeout` (the connection is then closed).
  asio::awaitable<absl::Status> SendAsync(const std::vector<std::vector<std::string>>& commands,
                                          absl::Duration timeout);
  // The same, for commands that live elsewhere (not copied); they must
  // outlive the call.
  asio::awaitable<absl::Status> SendAsync(
      const std::vector<const std::vector<std::string>*>& commands, absl::Duration timeout);
  asio::awaitable<absl::StatusOr<std::vector<RespValue>>> ReadReplies(
      size_t count, absl::Duration timeout = absl::Seconds(30));
  // ReadReplies that leaves in *out the replies that came before an error
  // (a connection that dropped mid-pipeline: those commands were answered).
  asio::awaitable<absl::Status> ReadRepliesKeepingPart(size_t count, absl::Duration timeout,
                                                       std::vector<RespValue>* out);
  // Sends AUTH when credentials have a password; errors name the peer. The
  // user is remembered for ACL refusals ("default" without a username).
  asio::awaitable<absl::Status> Authenticate(const Credentials& credentials);

  // The one message for an ACL refusal `error` (Redis's text) of the command
  // whose ACL name is `sent` (AclCommandName; empty when unknown): this
  // connection, its user, the command, its ACL categories and the rule to add
  // (AclRefusalMessage, permission_error.h). With `ask_server` the categories
  // come from the server's COMMAND INFO (when the user may run it), else from
  // the built-in table: pass it only when no reply is pending on this
  // connection and no MULTI is open. A COMMAND INFO that fails closes the
  // connection (its reply could come later, out of step).
  asio::awaitable<std::string> ExplainAclRefusal(std::string sent, std::string error,
                                                 bool ask_server);
  const std::string& user() const { return user_; }

  // Reads one CRLF-terminated line, skipping bare "\n" keepalives; the line is
  // returned without its terminator.
  asio::awaitable<absl::StatusOr<std::string>> ReadLine(absl::Duration timeout);

  // Writes bytes synchronously (small control messages such as REPLCONF ACK).
  absl::Status WriteSync(std::string_view bytes);
  asio::awaitable<absl::Status> WriteAsync(std::string_view bytes);

  SocketByteSource& source() { return source_; }
  asio::ip::tcp::socket& socket() { return stream_.socket(); }
  bool tls() const { return stream_.tls(); }
  const std::string& peer() const { return peer_; }
  void Close();

 private:
  RedisConnection(NetStream stream, std::string peer);
  asio::awaitable<absl::StatusOr<RespValue>> ReadReply();
  asio::awaitable<absl::Status> ReadRepliesInto(size_t count, std::vector<RespValue>* out,
                                                std::vector<std::string>* names);
  // Follows MULTI ... EXEC from the replies (`name` the command's ACL name).
  void NoteReply(const std::string& name, const RespValue& reply);
  // No reply pending and no MULTI open: a command may be sent in between.
  bool InStep() const { return pending_.empty() && !in_multi_; }
  asio::awaitable<std::string> AclCategories(const std::string& command);

  NetStream stream_;
  std::string peer_;  // "source 127.0.0.1:6379"
  SocketByteSource source_;
  std::string user_ = "default";
  std::deque<std::string> pending_;  // ACL names of the commands Send wrote, not yet answered
  bool in_multi_ = false;
};

}  // namespace reshard::engine
