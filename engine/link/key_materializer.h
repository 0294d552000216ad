#pragma once

// KeyMaterializer: copies keys from the source as they are at one instant,
// for the writes the router cannot forward exactly (see
// CommandRouter::EmitMaterialized). It keeps its own client connection to
// the source (authenticated like the upstream link) and reads each batch in
// one transaction: MULTI, SELECT db, DUMP key and PEXPIRETIME key (PTTL
// before Redis 7.0) per key, INFO replication, EXEC — so the values and the
// source offset (master_repl_offset) belong together. Batches are pipelined:
// Send writes one without waiting, Receive reads the replies in the order
// they were sent, so several batches are in flight on one connection.
// Job thread only.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "engine/io/endpoint.h"
#include "engine/link/redis_connection.h"
#include "engine/resp/resp_reply.h"
#include "engine/route/materialization.h"

namespace reshard::engine {

struct MaterializedBatch {
  uint64_t source_offset = 0;  // master_repl_offset when the values were read
  bool absolute_ttl = true;    // ttl_ms is PEXPIRETIME (else a relative PTTL)
  std::vector<std::pair<int, MaterializedKey>> keys;  // (db, key), in request order
};

// The transaction's commands for `requests`.
std::vector<std::vector<std::string>> DumpTransaction(const std::vector<Materialization>& requests,
                                                      bool pexpiretime);

// Parses EXEC's reply to DumpTransaction(requests, pexpiretime).
// FAILED_PRECONDITION naming the source's words when EXEC or a command in it
// failed; INVALID_ARGUMENT when the reply does not have the expected shape.
absl::StatusOr<MaterializedBatch> ParseDumpTransaction(const std::vector<Materialization>& requests,
                                                       bool pexpiretime, const RespValue& exec);

class KeyMaterializer {
 public:
  KeyMaterializer(asio::any_io_executor executor, RedisEndpoint source);

  // Connects, authenticates and learns whether the source has PEXPIRETIME;
  // OK at once when open. On failure the connection is closed (UNAVAILABLE,
  // PERMISSION_DENIED naming the source). Then sends the batches to resend.
  asio::awaitable<absl::Status> Open();
  bool is_open() const { return connection_ != nullptr; }

  // Writes the transaction for `requests` (not empty) without waiting for
  // its reply. Precondition: is_open(). UNAVAILABLE when the write fails
  // (the connection is then closed).
  absl::Status Send(std::vector<Materialization> requests);
  // The reply to the oldest batch sent and not received yet, in request
  // order. Precondition: in_flight() > 0. Any error closes the connection.
  // A lost connection (UNAVAILABLE) or a move (SetSource) keeps the batches
  // in flight for the next Open (to_resend()); any other error drops them.
  asio::awaitable<absl::StatusOr<MaterializedBatch>> Receive();
  size_t in_flight() const { return in_flight_.size(); }

  // Open, Send and Receive of one batch.
  asio::awaitable<absl::StatusOr<MaterializedBatch>> Fetch(
      const std::vector<Materialization>& requests);

  uint64_t batches() const { return batches_; }
  void Close();
  // The source moved (a failover): copies are read from `source` only. The
  // connection is closed (a Receive that waits ends as below), and the
  // batches in flight are sent again by the next Open, on `source`.
  void SetSource(RedisEndpoint source);
  // Batches that a lost connection or a move took back (Receive returned
  // UNAVAILABLE for them): the next Open sends them again, oldest first.
  size_t to_resend() const { return resend_.size(); }
  // Cancels a Receive that waits (it ends with an error and closes the
  // connection) without freeing anything it uses: for a materializer
  // retired while its reader may still be suspended.
  void Interrupt();

  // How long the source may take to answer a batch.
  static constexpr absl::Duration kReplyTimeout = absl::Seconds(30);

 private:
  // Reads one reply from the connection's buffer (filling it when needed).
  asio::awaitable<absl::StatusOr<RespValue>> ReadReply();
  // Closes the connection and returns `error` with the source named.
  absl::Status Fail(const absl::Status& error);
  // Closes the connection, keeping the batches in flight for the next Open;
  // UNAVAILABLE naming the source (and the move, when it moved).
  absl::Status TakeBackInFlight(const absl::Status& error);

  asio::any_io_executor executor_;
  RedisEndpoint source_;
  std::unique_ptr<RedisConnection> connection_;
  bool pexpiretime_ = true;
  bool moved_ = false;                               // SetSource while batches were in flight
  std::deque<std::vector<Materialization>> resend_;  // oldest first
  uint64_t batches_ = 0;
  std::deque<std::vector<Materialization>> in_flight_;  // oldest first
  std::string request_;                                 // scratch for Send
};

}  // namespace reshard::engine
