#pragma once

// BlockingConnection: a plain blocking client for the benchmark tools (one
// thread, one connection): send a pipeline, read its replies.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/resp/resp_reply.h"
#include "engine/resp/resp_writer.h"

namespace reshard::bench {

class BlockingConnection {
 public:
  ~BlockingConnection() {
    if (fd_ >= 0) close(fd_);
  }
  bool Open(const std::string& host, int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }
  // Sends `request` (RESP) and reads `count` replies into *replies (when not
  // null); counts error replies in *errors (when not null).
  bool RoundTrip(const std::string& request, size_t count,
                 std::vector<engine::RespValue>* replies = nullptr, uint64_t* errors = nullptr) {
    for (size_t sent = 0; sent < request.size();) {
      ssize_t n = write(fd_, request.data() + sent, request.size() - sent);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    engine::RespReplyParser parser;
    for (size_t got = 0; got < count;) {
      size_t consumed = 0;
      engine::RespValue value;
      engine::ParseResult result =
          parser.Parse(std::string_view(buffer_).substr(used_), &consumed, &value);
      if (result == engine::ParseResult::kOk) {
        used_ += consumed;
        ++got;
        if (errors != nullptr && value.IsError()) ++*errors;
        if (replies != nullptr) replies->push_back(std::move(value));
        continue;
      }
      if (result == engine::ParseResult::kError) return false;
      buffer_.erase(0, used_);
      used_ = 0;
      char chunk[65536];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    return true;
  }
  // One command; its reply (an error reply too) or nullopt when the
  // connection failed.
  std::optional<engine::RespValue> Command(std::initializer_list<std::string_view> args) {
    std::string request;
    engine::AppendCommand(&request, args);
    std::vector<engine::RespValue> replies;
    if (!RoundTrip(request, 1, &replies)) return std::nullopt;
    return std::move(replies[0]);
  }

 private:
  int fd_ = -1;
  std::string buffer_;
  size_t used_ = 0;
};

}  // namespace reshard::bench
