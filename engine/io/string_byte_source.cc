#include "engine/io/string_byte_source.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reshard::engine {

StringByteSource::StringByteSource(std::string data, size_t max_chunk)
    : max_chunk_(max_chunk == 0 ? 1 : max_chunk) {
  if (max_chunk_ == kUnlimited) {
    buffer_ = std::move(data);  // no copy: the whole input is the buffer
  } else {
    data_ = std::move(data);
  }
}

asio::awaitable<absl::Status> StringByteSource::Fill(size_t n) {
  if (Available().size() >= n) co_return absl::OkStatus();
  if (Available().size() + pending() < n) {
    co_return absl::DataLossError(absl::StrCat("truncated: needed ", n, " bytes, input has ",
                                               Available().size() + pending(), " left"));
  }
  Compact();
  while (buffer_.size() < n) {
    size_t take = std::min({max_chunk_, pending(), n - buffer_.size()});
    buffer_.append(data_, next_, take);
    next_ += take;
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
