#pragma once

// StringByteSource: a ByteSource over an in-memory string (tests, benchmarks,
// RDB payloads already in memory). With `max_chunk` it appends at most that
// many bytes per internal step and stops as soon as Fill(n) is satisfied, so
// Available() is exactly n after a short Fill: max_chunk = 1 puts a buffer
// boundary at every offset the reader asks about.

#include <cstddef>
#include <limits>
#include <string>

#include "engine/io/byte_source.h"

namespace reshard::engine {

class StringByteSource : public ByteSource {
 public:
  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

  // Takes the whole input. With kUnlimited everything is Available() at once.
  explicit StringByteSource(std::string data, size_t max_chunk = kUnlimited);

  // DATA_LOSS "truncated ..." when the input has fewer than n unconsumed bytes.
  asio::awaitable<absl::Status> Fill(size_t n) override;

  // Bytes not yet handed to the buffer (0 once all of it is buffered).
  size_t pending() const { return data_.size() - next_; }

 private:
  std::string data_;  // bytes not yet moved to buffer_ start at next_
  size_t next_ = 0;
  size_t max_chunk_;
};

}  // namespace reshard::engine
