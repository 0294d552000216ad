#include "engine/io/socket_byte_source.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"

namespace reshard::engine {

SocketByteSource::SocketByteSource(asio::ip::tcp::socket* socket, std::string peer)
    : socket_(socket), peer_(std::move(peer)) {}

asio::awaitable<absl::Status> SocketByteSource::Fill(size_t n) {
  while (Available().size() < n) {
    Compact();
    size_t have = buffer_.size();
    size_t want = std::max(kReadChunk, n - have);
    buffer_.resize(have + want);
    asio::error_code ec;
    size_t got = co_await socket_->async_read_some(asio::buffer(buffer_.data() + have, want),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    buffer_.resize(have + got);
    bytes_received_ += got;
    if (ec) {
      std::string reason = ec == asio::error::eof ? "closed by peer" : ec.message();
      co_return absl::UnavailableError(absl::StrCat(peer_, ": connection lost (", reason, ")"));
    }
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
