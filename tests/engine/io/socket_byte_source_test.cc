// SocketByteSource on loopback: the idle timeout fails a read that waits too
// long for a byte, with the "connection lost" message the job reconnects on,
// and does not fail a slow peer whose bytes keep coming.

#include "engine/io/socket_byte_source.h"

#include <chrono>
#include <future>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/io_context.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "asio/use_future.hpp"
#include "asio/write.hpp"
#include "engine/base/await_timeout.h"
#include "gtest/gtest.h"
#include "tests/support/silent_listener.h"

namespace reshard::engine {
namespace {

using asio::ip::tcp;

class SocketByteSourceTest : public ::testing::Test {
 protected:
  // Connects `client_` to 127.0.0.1:port.
  void Connect(uint16_t port) {
    client_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    peer_ = absl::StrCat("source 127.0.0.1:", port);
  }

  // Runs source->Fill(n) on io_ to completion; a Fill that neither ends nor
  // fails within `limit` fails the test.
  absl::Status RunFill(SocketByteSource* source, size_t n,
                       absl::Duration limit = absl::Seconds(5)) {
    std::optional<absl::Status> status = Run(WithTimeout(source->Fill(n), limit));
    if (!status.has_value()) return absl::DeadlineExceededError("Fill still waits");
    return *status;
  }

  // Runs `op` on io_ to completion; returns its result.
  template <typename T>
  T Run(asio::awaitable<T> op) {
    std::future<T> result = asio::co_spawn(io_, std::move(op), asio::use_future);
    while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return result.get();
  }

  asio::io_context io_;
  NetStream client_{tcp::socket(io_)};
  std::string peer_;
};

TEST_F(SocketByteSourceTest, AnIdlePeerFailsTheReadAfterTheTimeout) {
  testing::SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  Connect(silent.port());
  SocketByteSource source(&client_, peer_);
  source.set_idle_timeout(absl::Milliseconds(200));
  absl::Time start = absl::Now();
  absl::Status status = RunFill(&source, 1);
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), absl::StrCat(peer_, ": connection lost (no data for 200 ms)"));
  EXPECT_GE(took, absl::Milliseconds(195));
  EXPECT_LT(took, absl::Milliseconds(1500));
}

TEST_F(SocketByteSourceTest, WholeSecondsAreSaidInSeconds) {
  testing::SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  Connect(silent.port());
  SocketByteSource source(&client_, peer_);
  source.set_idle_timeout(absl::Seconds(1));
  EXPECT_EQ(RunFill(&source, 1).message(),
            absl::StrCat(peer_, ": connection lost (no data for 1 s)"));
}

TEST_F(SocketByteSourceTest, WithoutATimeoutAnIdlePeerIsWaitedFor) {
  testing::SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  Connect(silent.port());
  SocketByteSource source(&client_, peer_);
  EXPECT_EQ(source.idle_timeout(), absl::InfiniteDuration());
  std::optional<absl::Status> status = Run(WithTimeout(source.Fill(1), absl::Milliseconds(300)));
  EXPECT_FALSE(status.has_value()) << *status;
}

class ServedSourceTest : public SocketByteSourceTest {
 protected:
  void SetUp() override {
    tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    Connect(acceptor.local_endpoint().port());
    server_ = acceptor.accept();
  }

  // Writes `bytes` one at a time, `gap` apart.
  asio::awaitable<void> Trickle(std::string bytes, absl::Duration gap) {
    asio::steady_timer timer(io_);
    for (char c : bytes) {
      timer.expires_after(absl::ToChronoNanoseconds(gap));
      co_await timer.async_wait(asio::use_awaitable);
      co_await asio::async_write(server_, asio::buffer(&c, 1), asio::use_awaitable);
    }
  }

  tcp::socket server_{io_};
};

TEST_F(ServedSourceTest, ASlowPeerWhoseBytesKeepComingDoesNotFail) {
  SocketByteSource source(&client_, peer_);
  source.set_idle_timeout(absl::Milliseconds(200));
  asio::co_spawn(io_, Trickle("0123456789", absl::Milliseconds(60)), asio::detached);
  absl::Time start = absl::Now();
  absl::Status status = RunFill(&source, 10);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(500)) << "longer than the timeout in all";
  EXPECT_EQ(source.Available(), "0123456789");
}

TEST_F(ServedSourceTest, TheTimeoutCountsOnlyWhileAReadWaits) {
  SocketByteSource source(&client_, peer_);
  source.set_idle_timeout(absl::Milliseconds(100));
  asio::write(server_, asio::buffer(std::string("ab")));
  ASSERT_TRUE(RunFill(&source, 2).ok());
  // Nobody reads for three timeouts; then the next read gets its bytes.
  io_.restart();
  io_.run_for(std::chrono::milliseconds(300));
  asio::write(server_, asio::buffer(std::string("c")));
  absl::Status status = RunFill(&source, 3);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(source.Available(), "abc");
  // And the timeout still applies after successful reads.
  status = RunFill(&source, 4);
  EXPECT_EQ(status.message(), absl::StrCat(peer_, ": connection lost (no data for 100 ms)"));
}

TEST_F(ServedSourceTest, APeerThatClosesIsStillSaidToHaveClosed) {
  SocketByteSource source(&client_, peer_);
  source.set_idle_timeout(absl::Seconds(5));
  server_.close();
  absl::Status status = RunFill(&source, 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), absl::StrCat(peer_, ": connection lost (closed by peer)"));
}

}  // namespace
}  // namespace reshard::engine
