#pragma once

// RedisClient: a small blocking RESP client for tests (no pooling, no
// reconnects). Replies are parsed with engine::RespReplyParser, so error
// replies come back as values (type kError), not as a failed Status; a Status
// fails only on I/O, timeouts and protocol errors. Not thread-safe; movable.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/resp/resp_reply.h"

struct ssl_st;
struct ssl_ctx_st;

namespace reshard::testing {

using engine::RespValue;

// TLS for a test client: the CA that signed the server's certificate, and a
// client certificate for servers with tls-auth-clients yes.
struct ClientTlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

class RedisClient {
 public:
  // Connects to host:port ("127.0.0.1", "::1", "localhost"). Every later read
  // or write fails with DEADLINE_EXCEEDED after `timeout` without progress.
  static absl::StatusOr<RedisClient> Connect(const std::string& host, uint16_t port,
                                             absl::Duration timeout = absl::Seconds(10));
  // The same over TLS (the server's certificate verified against tls.ca_file,
  // not its name). UNAVAILABLE "TLS handshake with <host:port> failed: ...".
  static absl::StatusOr<RedisClient> ConnectTls(const std::string& host, uint16_t port,
                                                const ClientTlsFiles& tls,
                                                absl::Duration timeout = absl::Seconds(10));

  RedisClient(RedisClient&& other) noexcept;
  RedisClient& operator=(RedisClient&& other) noexcept;
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  ~RedisClient();

  // Sends one command (binary-safe arguments) and reads its reply.
  absl::StatusOr<RespValue> Command(std::vector<std::string> args);
  // Like Command, but an error reply becomes an UNKNOWN status "<CMD>: <error>".
  absl::StatusOr<RespValue> CheckedCommand(std::vector<std::string> args);
  // Sends commands in batches without waiting and returns their replies in
  // order (error replies included). Use it to load many keys fast.
  absl::StatusOr<std::vector<RespValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // Raw access, for speaking replication by hand (e.g. PSYNC to reshardd).
  absl::Status SendRaw(std::string_view bytes);
  absl::StatusOr<RespValue> ReadReply();
  // Exactly n bytes (buffered reply bytes first), e.g. an RDB payload.
  absl::StatusOr<std::string> ReadBytes(size_t n);
  // The line before a snapshot's payload ("$<length>\r\n" or
  // "$EOF:<40-byte mark>\r\n"), with its CRLF, read byte by byte so nothing
  // after it is consumed; the bare "\n" keepalives a master sends before it
  // are skipped.
  absl::StatusOr<std::string> ReadSnapshotHeader();

  // Every key of `db`, sorted, via SCAN (the connection's db is restored).
  absl::StatusOr<std::vector<std::string>> Keys(int db = 0);
  // PTTL: -2 when the key does not exist, -1 when it has no expiry.
  absl::StatusOr<int64_t> Pttl(std::string_view key);
  // DUMP payload (binary), or nullopt when the key does not exist.
  absl::StatusOr<std::optional<std::string>> Dump(std::string_view key);
  // One "field:value" line of INFO <section>; NOT_FOUND when absent.
  absl::StatusOr<std::string> InfoField(std::string_view section, std::string_view field);

  // Polls `predicate` every `poll` until it returns true (OK) or `timeout`
  // passes (DEADLINE_EXCEEDED naming `what`).
  static absl::Status WaitFor(const std::function<bool()>& predicate, absl::Duration timeout,
                              std::string_view what = "condition",
                              absl::Duration poll = absl::Milliseconds(20));

  // Polls EXISTS `key` in the selected db until it is 1 (OK) or `timeout`
  // passes (DEADLINE_EXCEEDED naming `what`). A failed EXISTS counts as "not
  // yet". For markers: a key written to the source last, whose arrival on a
  // target shows that everything before it has been applied there.
  absl::Status WaitForKey(const std::string& key, absl::Duration timeout, std::string_view what);

  const std::string& peer() const { return peer_; }

 private:
  RedisClient(int fd, std::string peer);
  absl::Status Fill();
  void Close();

  int fd_ = -1;
  ssl_ctx_st* ssl_ctx_ = nullptr;  // TLS: both set
  ssl_st* ssl_ = nullptr;
  std::string peer_;
  std::string buffer_;  // received, not yet parsed bytes start at read_pos_
  size_t read_pos_ = 0;
  int db_ = 0;  // tracked through SELECT so Keys() can restore it
  engine::RespReplyParser parser_;
};

// The RESP encoding of one command: *N\r\n$len\r\narg\r\n...
std::string EncodeCommand(const std::vector<std::string>& args);

}  // namespace reshard::testing
