#pragma once

// KeyMaterializer: copies keys from the source as they are at one instant,
// for the writes the router cannot forward exactly (see
// CommandRouter::EmitMaterialized). It keeps its own client connection to
// the source (opened on first use, authenticated like the upstream link) and
// reads each batch in one transaction: MULTI, SELECT db, DUMP key and
// PEXPIRETIME key (PTTL before Redis 7.0) per key, INFO replication, EXEC —
// so the values and the source offset (master_repl_offset) belong together.
// Job thread only.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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

  asio::awaitable<absl::StatusOr<MaterializedBatch>> Fetch(
      const std::vector<Materialization>& requests);

  uint64_t batches() const { return batches_; }
  void Close();

 private:
  asio::awaitable<absl::Status> Open();

  asio::any_io_executor executor_;
  RedisEndpoint source_;
  std::unique_ptr<RedisConnection> connection_;
  bool pexpiretime_ = true;
  uint64_t batches_ = 0;
};

}  // namespace reshard::engine
