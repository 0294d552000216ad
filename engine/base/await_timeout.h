#pragma once

// WithTimeout: runs an awaitable operation and gives up after `timeout`,
// cancelling the operation. Returns nullopt on timeout.

#include <optional>
#include <utility>
#include <variant>

#include "absl/time/time.h"
#include "asio/awaitable.hpp"
#include "asio/experimental/awaitable_operators.hpp"
#include "asio/steady_timer.hpp"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"

namespace reshard::engine {

template <typename T>
asio::awaitable<std::optional<T>> WithTimeout(asio::awaitable<T> op, absl::Duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(absl::ToChronoNanoseconds(timeout));
  std::variant<T, std::monostate> result =
      co_await (std::move(op) || timer.async_wait(asio::use_awaitable));
  if (result.index() == 0) co_return std::get<0>(std::move(result));
  co_return std::nullopt;
}

}  // namespace reshard::engine
