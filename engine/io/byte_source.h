#pragma once

// ByteSource: a buffered pull source for the RDB reader. The reader looks at
// Available() bytes and Consume()s them; when it needs more it co_awaits
// Fill(n). Fill may move the buffer, so views into Available() are invalid
// after a Fill. Implementations: a socket (upstream link), a file (offline
// tools), a string (tests; optionally handing out one byte per Fill).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "asio/awaitable.hpp"

namespace reshard::engine {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Unconsumed buffered bytes. Valid until the next Fill() or Consume().
  std::string_view Available() const {
    return std::string_view(buffer_.data() + begin_, buffer_.size() - begin_);
  }
  // Drops n (<= Available().size()) bytes from the front.
  void Consume(size_t n) {
    begin_ += n;
    consumed_ += n;
  }
  // Total bytes consumed since construction: the reader's byte offset.
  uint64_t consumed() const { return consumed_; }

  // Returns OK once Available().size() >= n. n must be <= kMaxFill. Errors:
  // UNAVAILABLE (connection lost), DATA_LOSS ("truncated" at end of a file).
  virtual asio::awaitable<absl::Status> Fill(size_t n) = 0;

  static constexpr size_t kMaxFill = 1 << 20;

 protected:
  // Moves unconsumed bytes to the front so that more can be appended.
  void Compact() {
    if (begin_ > 0) {
      buffer_.erase(0, begin_);
      begin_ = 0;
    }
  }
  std::string buffer_;  // [begin_, size) is unconsumed
  size_t begin_ = 0;
  uint64_t consumed_ = 0;
};

}  // namespace reshard::engine
