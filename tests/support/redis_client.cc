#include "tests/support/redis_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/resp/resp_writer.h"

namespace reshard::testing {
namespace {

constexpr size_t kPipelineBatch = 1024;

std::string S(absl::string_view text) { return std::string(text); }

absl::Status ErrnoStatus(std::string_view what, const std::string& peer, int err) {
  if (err == EAGAIN || err == EWOULDBLOCK) {
    return absl::DeadlineExceededError(absl::StrCat("timed out ", std::string(what), " ", peer));
  }
  return absl::UnavailableError(
      absl::StrCat(std::string(what), " ", peer, ": ", std::strerror(err)));
}

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

}  // namespace

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out;
  std::vector<std::string_view> views(args.begin(), args.end());
  engine::AppendCommand(&out, views);
  return out;
}

absl::StatusOr<RedisClient> RedisClient::Connect(const std::string& host, uint16_t port,
                                                 absl::Duration timeout) {
  const std::string peer = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &addrs); rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", peer, ": ", ::gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError(absl::StrCat("connect ", peer, ": no address"));
  int fd = -1;
  for (addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    timeval tv{};
    const int64_t micros = absl::ToInt64Microseconds(timeout);
    tv.tv_sec = micros / 1000000;
    tv.tv_usec = micros % 1000000;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    last = ErrnoStatus("connecting to", peer, errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(addrs);
  if (fd < 0) return last;
  return RedisClient(fd, peer);
}

absl::StatusOr<RedisClient> RedisClient::ConnectTls(const std::string& host, uint16_t port,
                                                    const ClientTlsFiles& tls,
                                                    absl::Duration timeout) {
  absl::StatusOr<RedisClient> client = Connect(host, port, timeout);
  if (!client.ok()) return client;
  auto fail = [&](std::string_view what) {
    return absl::UnavailableError(absl::StrCat("TLS handshake with ", host, ":", port, " failed: ",
                                               std::string(what), ": ", OpenSslError()));
  };
  client->ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (client->ssl_ctx_ == nullptr) return fail("SSL_CTX_new");
  if (!tls.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(client->ssl_ctx_, tls.ca_file.c_str(), nullptr) != 1) {
      return fail(tls.ca_file);
    }
    SSL_CTX_set_verify(client->ssl_ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!tls.cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(client->ssl_ctx_, tls.cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(client->ssl_ctx_, tls.key_file.c_str(), SSL_FILETYPE_PEM) !=
           1)) {
    return fail(tls.cert_file);
  }
  client->ssl_ = SSL_new(client->ssl_ctx_);
  if (client->ssl_ == nullptr || SSL_set_fd(client->ssl_, client->fd_) != 1) {
    return fail("SSL_new");
  }
  if (SSL_connect(client->ssl_) != 1) return fail("SSL_connect");
  return client;
}

RedisClient::RedisClient(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}

RedisClient::RedisClient(RedisClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ssl_ctx_(std::exchange(other.ssl_ctx_, nullptr)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      peer_(std::move(other.peer_)),
      buffer_(std::move(other.buffer_)),
      read_pos_(std::exchange(other.read_pos_, 0)),
      db_(other.db_),
      parser_(std::move(other.parser_)) {}

RedisClient& RedisClient::operator=(RedisClient&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    ssl_ctx_ = std::exchange(other.ssl_ctx_, nullptr);
    ssl_ = std::exchange(other.ssl_, nullptr);
    peer_ = std::move(other.peer_);
    buffer_ = std::move(other.buffer_);
    read_pos_ = std::exchange(other.read_pos_, 0);
    db_ = other.db_;
    parser_ = std::move(other.parser_);
  }
  return *this;
}

RedisClient::~RedisClient() { Close(); }

void RedisClient::Close() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ = nullptr;
  ssl_ctx_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::Status RedisClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError("client is closed");
  while (!bytes.empty()) {
    if (ssl_ != nullptr) {
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) {
        return absl::UnavailableError(
            absl::StrCat("writing to ", peer_, " (TLS): ", OpenSslError()));
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("writing to", peer_, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RedisClient::Fill() {
  if (fd_ < 0) return absl::FailedPreconditionError("client is closed");
  if (read_pos_ > 0 && read_pos_ * 2 >= buffer_.size()) {
    buffer_.erase(0, read_pos_);
    read_pos_ = 0;
    parser_.Reset();  // the bytes moved; the parser's size hint no longer applies
  }
  char chunk[64 * 1024];
  while (ssl_ != nullptr) {
    const int n = SSL_read(ssl_, chunk, sizeof(chunk));
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_ZERO_RETURN) {
      return absl::UnavailableError(absl::StrCat("connection closed by ", peer_));
    }
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      return absl::DeadlineExceededError(absl::StrCat("timed out reading from ", peer_));
    }
    if (error == SSL_ERROR_SYSCALL && errno == EINTR) continue;
    return absl::UnavailableError(absl::StrCat("reading from ", peer_, " (TLS): ", OpenSslError()));
  }
  while (true) {
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::UnavailableError(absl::StrCat("connection closed by ", peer_));
    if (errno == EINTR) continue;
    return ErrnoStatus("reading from", peer_, errno);
  }
}

absl::StatusOr<RespValue> RedisClient::ReadReply() {
  while (true) {
    size_t consumed = 0;
    RespValue value;
    const std::string_view pending = std::string_view(buffer_).substr(read_pos_);
    switch (parser_.Parse(pending, &consumed, &value)) {
      case engine::ParseResult::kOk:
        read_pos_ += consumed;
        return value;
      case engine::ParseResult::kError:
        return absl::DataLossError(absl::StrCat("bad reply from ", peer_, ": ", parser_.error()));
      case engine::ParseResult::kNeedMore:
        if (absl::Status status = Fill(); !status.ok()) return status;
        break;
    }
  }
}

absl::StatusOr<std::string> RedisClient::ReadBytes(size_t n) {
  while (buffer_.size() - read_pos_ < n) {
    if (absl::Status status = Fill(); !status.ok()) return status;
  }
  std::string out = buffer_.substr(read_pos_, n);
  read_pos_ += n;
  parser_.Reset();
  return out;
}

absl::StatusOr<std::string> RedisClient::ReadSnapshotHeader() {
  std::string line;
  while (line.size() < 2 || line.compare(line.size() - 2, 2, "\r\n") != 0) {
    absl::StatusOr<std::string> byte = ReadBytes(1);
    if (!byte.ok()) return byte.status();
    if (line.empty() && *byte == "\n") continue;  // keepalive before the payload
    line += *byte;
  }
  return line;
}

absl::StatusOr<RespValue> RedisClient::Command(std::vector<std::string> args) {
  if (absl::Status status = SendRaw(EncodeCommand(args)); !status.ok()) return status;
  absl::StatusOr<RespValue> reply = ReadReply();
  if (reply.ok() && args.size() == 2 && absl::AsciiStrToUpper(args[0]) == "SELECT" &&
      reply->IsString("OK")) {
    absl::SimpleAtoi(args[1], &db_);
  }
  return reply;
}

absl::StatusOr<RespValue> RedisClient::CheckedCommand(std::vector<std::string> args) {
  const std::string name = args.empty() ? "" : args[0];
  absl::StatusOr<RespValue> reply = Command(std::move(args));
  if (reply.ok() && reply->IsError()) {
    return absl::UnknownError(absl::StrCat(name, ": ", reply->str));
  }
  return reply;
}

absl::StatusOr<std::vector<RespValue>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<RespValue> replies;
  replies.reserve(commands.size());
  for (size_t begin = 0; begin < commands.size(); begin += kPipelineBatch) {
    const size_t end = std::min(commands.size(), begin + kPipelineBatch);
    std::string wire;
    for (size_t i = begin; i < end; ++i) wire += EncodeCommand(commands[i]);
    if (absl::Status status = SendRaw(wire); !status.ok()) return status;
    for (size_t i = begin; i < end; ++i) {
      absl::StatusOr<RespValue> reply = ReadReply();
      if (!reply.ok()) return reply.status();
      replies.push_back(*std::move(reply));
    }
  }
  return replies;
}

absl::StatusOr<std::vector<std::string>> RedisClient::Keys(int db) {
  const int previous_db = db_;
  if (auto selected = CheckedCommand({"SELECT", std::to_string(db)}); !selected.ok()) {
    return selected.status();
  }
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    absl::StatusOr<RespValue> reply = CheckedCommand({"SCAN", cursor, "COUNT", "1000"});
    if (!reply.ok()) return reply.status();
    if (reply->type != RespValue::Type::kArray || reply->elements.size() != 2 ||
        reply->elements[1].type != RespValue::Type::kArray) {
      return absl::DataLossError(absl::StrCat("unexpected SCAN reply ", reply->ToString()));
    }
    cursor = reply->elements[0].str;
    for (RespValue& key : reply->elements[1].elements) keys.push_back(std::move(key.str));
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // SCAN may repeat keys
  if (auto restored = CheckedCommand({"SELECT", std::to_string(previous_db)}); !restored.ok()) {
    return restored.status();
  }
  return keys;
}

absl::StatusOr<int64_t> RedisClient::Pttl(std::string_view key) {
  absl::StatusOr<RespValue> reply = CheckedCommand({"PTTL", std::string(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type != RespValue::Type::kInteger) {
    return absl::DataLossError(absl::StrCat("unexpected PTTL reply ", reply->ToString()));
  }
  return reply->integer;
}

absl::StatusOr<std::optional<std::string>> RedisClient::Dump(std::string_view key) {
  absl::StatusOr<RespValue> reply = CheckedCommand({"DUMP", std::string(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type == RespValue::Type::kNull) return std::optional<std::string>();
  if (reply->type != RespValue::Type::kBulkString) {
    return absl::DataLossError(absl::StrCat("unexpected DUMP reply ", reply->ToString()));
  }
  return std::optional<std::string>(std::move(reply->str));
}

absl::StatusOr<std::string> RedisClient::InfoField(std::string_view section,
                                                   std::string_view field) {
  absl::StatusOr<RespValue> reply = CheckedCommand({"INFO", std::string(section)});
  if (!reply.ok()) return reply.status();
  const std::string prefix = absl::StrCat(std::string(field), ":");
  for (absl::string_view line : absl::StrSplit(reply->str, "\r\n")) {
    if (absl::StartsWith(line, prefix)) return S(line.substr(prefix.size()));
  }
  return absl::NotFoundError(
      absl::StrCat("INFO ", std::string(section), " has no field '", std::string(field), "'"));
}

absl::Status RedisClient::WaitFor(const std::function<bool()>& predicate, absl::Duration timeout,
                                  std::string_view what, absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (predicate()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "timed out after ", absl::FormatDuration(timeout), " waiting for ", std::string(what)));
    }
    absl::SleepFor(poll);
  }
}

absl::Status RedisClient::WaitForKey(const std::string& key, absl::Duration timeout,
                                     std::string_view what) {
  return WaitFor(
      [&] {
        absl::StatusOr<RespValue> exists = Command({"EXISTS", key});
        return exists.ok() && exists->integer == 1;
      },
      timeout, what);
}

}  // namespace reshard::testing
