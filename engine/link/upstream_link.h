#pragma once

// UpstreamLink: reshardd's replica connection to the source. It performs the
// replica side of the Redis replication handshake, asks for a full sync, and
// reads the RDB framing; the RDB itself and the command stream are read by the
// job from source() (the RDB reader, then the RESP parser, over one buffer, so
// the hand-over between them is exact). Job thread only.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/redis_connection.h"

namespace reshard::engine {

struct FullResync {
  std::string replid;   // the source's replication id
  uint64_t offset = 0;  // source offset at the snapshot point
};

// How the source frames the RDB payload.
struct RdbFraming {
  bool eof_marked = false;  // "$EOF:<40 bytes>" (diskless) vs "$<length>"
  std::string mark;         // the 40-byte end mark when eof_marked
  uint64_t length = 0;      // payload length when !eof_marked
};

class UpstreamLink {
 public:
  UpstreamLink(asio::any_io_executor executor, RedisEndpoint source, uint16_t announce_port);

  // Connects, then PING, AUTH (when configured), REPLCONF listening-port,
  // REPLCONF capa eof capa psync2. Errors name the source address;
  // UNAVAILABLE for what passes (refused, timed out, -LOADING: "the source
  // is loading its dataset").
  asio::awaitable<absl::Status> Connect(absl::Duration timeout);
  // REPLCONF version <version>, before a PSYNC: a Valkey >= 9 source picks the
  // RDB version it sends from it. A source that does not know the option
  // (Redis, older Valkey) answers -ERR, which is ignored.
  asio::awaitable<absl::Status> AnnounceVersion(std::string version);
  // PSYNC ? -1. Accepts +FULLRESYNC; -LOADING / -NOMASTERLINK give UNAVAILABLE,
  // anything else FAILED_PRECONDITION with the source's words.
  asio::awaitable<absl::StatusOr<FullResync>> RequestFullSync();
  // PSYNC <replid> <offset> after a lost link: the source continues the stream
  // from `offset` (the first byte not yet applied) and returns its (possibly
  // new) replication id. FAILED_PRECONDITION when it answers FULLRESYNC (its
  // backlog no longer covers the offset, or it restarted): the link is closed.
  asio::awaitable<absl::StatusOr<std::string>> RequestPartialSync(const std::string& replid,
                                                                  uint64_t offset);
  // Reads the "$..." line that starts the RDB payload, skipping keepalives.
  asio::awaitable<absl::StatusOr<RdbFraming>> ReadRdbFraming(absl::Duration timeout);
  // After the RDB reader stopped at the RDB's end: checks that the payload
  // ended exactly there (length framing) or consumes and checks the end mark.
  // `rdb_bytes` is how many payload bytes the reader consumed.
  asio::awaitable<absl::Status> FinishRdbFraming(const RdbFraming& framing, uint64_t rdb_bytes);

  // One command on the link, before RequestFullSync only (e.g. COMMAND).
  asio::awaitable<absl::StatusOr<RespValue>> Command(std::vector<std::string> args);

  // REPLCONF ACK <offset>.
  absl::Status SendAck(uint64_t offset);

  SocketByteSource& source() { return connection_->source(); }
  std::string address() const { return source_.address.ToString(); }
  bool connected() const { return connection_ != nullptr; }
  void Close();
  // Another source (a failover): used from the next Connect on.
  void SetSource(RedisEndpoint source);
  const RedisEndpoint& endpoint() const { return source_; }
  // Cancels what waits on the connection (a Fill of source() ends with
  // UNAVAILABLE) without closing it: the owner of the read reconnects.
  void Interrupt();

 private:
  asio::any_io_executor executor_;
  RedisEndpoint source_;
  uint16_t announce_port_;
  std::unique_ptr<RedisConnection> connection_;
};

}  // namespace reshard::engine
