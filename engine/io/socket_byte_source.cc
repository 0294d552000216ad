#include "engine/io/socket_byte_source.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "asio/redirect_error.hpp"
#include "asio/use_awaitable.hpp"

namespace reshard::engine {
namespace {

// "60 s" for whole seconds, else "250 ms".
std::string DurationText(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms % 1000 == 0) return absl::StrCat(ms / 1000, " s");
  return absl::StrCat(ms, " ms");
}

// Shared by one read and its timer's handler, which may run after the read
// completed (the expiry was already queued when the read's completion
// cancelled the timer) or after the source is gone.
struct ReadWatch {
  bool done = false;     // the read completed: the handler must not touch the socket
  bool expired = false;  // the handler cancelled the read
};

}  // namespace

SocketByteSource::SocketByteSource(NetStream* stream, std::string peer)
    : stream_(stream), peer_(std::move(peer)), idle_timer_(stream->get_executor()) {}

asio::awaitable<absl::Status> SocketByteSource::Fill(size_t n) {
  while (Available().size() < n) {
    Compact();
    size_t have = buffer_.size();
    size_t want = std::max(read_chunk_, n - have);
    buffer_.resize(have + want);
    std::shared_ptr<ReadWatch> watch;
    absl::Duration timeout = idle_timeout_;
    if (timeout != absl::InfiniteDuration() && timeout > absl::ZeroDuration()) {
      watch = std::make_shared<ReadWatch>();
      idle_timer_.expires_after(absl::ToChronoNanoseconds(timeout));
      idle_timer_.async_wait([watch, socket = &stream_->socket()](const asio::error_code& ec) {
        if (ec || watch->done) return;
        watch->expired = true;
        asio::error_code ignored;
        socket->cancel(ignored);
      });
    }
    asio::error_code ec;
    size_t got = co_await stream_->async_read_some(asio::buffer(buffer_.data() + have, want),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (watch != nullptr) {
      watch->done = true;
      idle_timer_.cancel();
    }
    buffer_.resize(have + got);
    bytes_received_ += got;
    if (got == want && read_chunk_ < kReadChunk) read_chunk_ *= 2;
    if (ec) {
      std::string reason;
      if (watch != nullptr && watch->expired && ec == asio::error::operation_aborted) {
        reason = absl::StrCat("no data for ", DurationText(timeout));
      } else {
        reason = ec == asio::error::eof ? "closed by peer" : ec.message();
      }
      co_return absl::UnavailableError(absl::StrCat(peer_, ": connection lost (", reason, ")"));
    }
  }
  co_return absl::OkStatus();
}

}  // namespace reshard::engine
