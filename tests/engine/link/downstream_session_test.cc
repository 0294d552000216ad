// DownstreamSession against a fake replica on loopback and recording events:
// the handshake replies it writes itself, how it encodes each PSYNC answer,
// the ACKs it reports after the sync, and when it closes (a replica that does
// not finish its handshake in time included).

#include "engine/link/downstream_session.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "asio/io_context.hpp"
#include "asio/ip/tcp.hpp"
#include "engine/resp/resp_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback_peer.h"

namespace reshard::engine {
namespace {

using test::LoopbackPeer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Command(std::initializer_list<std::string_view> args) {
  std::string out;
  AppendCommand(&out, args);
  return out;
}

// Records every event; answers PSYNC with `answer`.
class RecordingEvents : public DownstreamEvents {
 public:
  PsyncAnswer OnPsync(std::shared_ptr<DownstreamSession> session,
                      const PsyncRequest& request) override {
    psyncs.push_back(std::string(request.replid) + " " + std::string(request.offset));
    versions.push_back(std::string(request.announced_version));
    return answer;
  }
  void OnAck(uint64_t offset) override { acks.push_back(offset); }
  void OnWritten(uint64_t bytes) override { written += bytes; }
  void OnPendingTaken() override { ++taken; }
  void OnSessionClosed(DownstreamSession* session, const absl::Status& why) override {
    closes.push_back(why);
  }

  PsyncAnswer answer;
  std::vector<std::string> psyncs;
  std::vector<std::string> versions;
  std::vector<uint64_t> acks;
  uint64_t written = 0;
  int taken = 0;
  std::vector<absl::Status> closes;
};

class DownstreamSessionTest : public ::testing::Test {
 protected:
  void Open(Credentials credentials = {}, absl::Duration handshake_timeout = absl::Seconds(10)) {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    replica_ = std::make_unique<LoopbackPeer>(&io_, acceptor.local_endpoint().port());
    ASSERT_TRUE(replica_->connected());
    asio::ip::tcp::socket socket = acceptor.accept();
    session_ = std::make_shared<DownstreamSession>(
        NetStream(std::move(socket)), DownstreamSession::Options{credentials, handshake_timeout},
        &events_);
    session_->Start();
  }

  // Sends `command` and returns the reply line(s) that arrive.
  std::string Ask(const std::string& command) {
    replica_->Send(command);
    EXPECT_TRUE(replica_->WaitFor("\r\n"));
    return replica_->Take();
  }

  void Run(absl::Duration duration) { replica_->RunFor(duration); }

  asio::io_context io_;
  RecordingEvents events_;
  std::unique_ptr<LoopbackPeer> replica_;
  std::shared_ptr<DownstreamSession> session_;
};

TEST_F(DownstreamSessionTest, AnswersTheHandshakeItself) {
  Open();
  EXPECT_EQ(Ask(Command({"PING"})), "+PONG\r\n");
  EXPECT_EQ(Ask(Command({"REPLCONF", "listening-port", "6380"})), "+OK\r\n");
  EXPECT_EQ(Ask(Command({"AUTH", "x"})), "-ERR AUTH called without any password configured\r\n");
  EXPECT_EQ(Ask(Command({"SYNC"})),
            "-ERR reshard: SYNC is not supported; the replica must use PSYNC\r\n");
  EXPECT_EQ(Ask(Command({"GET", "k"})),
            "-ERR reshard: unknown command 'GET' on a replication listener\r\n");
  EXPECT_THAT(events_.psyncs, ::testing::IsEmpty());
}

TEST_F(DownstreamSessionTest, PsyncNeedsCapaEof) {
  Open();
  EXPECT_EQ(Ask(Command({"PSYNC", "?", "-1"})),
            "-ERR reshard streams snapshots with an EOF mark: the replica must announce REPLCONF "
            "capa eof (Redis >= 2.8.18)\r\n");
  EXPECT_EQ(Ask(Command({"PSYNC", "?"})), "-ERR wrong number of arguments for 'psync' command\r\n");
  EXPECT_THAT(events_.psyncs, ::testing::IsEmpty());
}

TEST_F(DownstreamSessionTest, EncodesAFullResyncThenReportsAcks) {
  Open();
  Ask(Command({"REPLCONF", "capa", "eof", "capa", "psync2"}));
  events_.answer.kind = PsyncAnswer::Kind::kFullResync;
  events_.answer.replid = std::string(40, 'a');
  events_.answer.offset = 7;
  EXPECT_EQ(Ask(Command({"PSYNC", "?", "-1"})), "+FULLRESYNC " + std::string(40, 'a') + " 7\r\n");
  EXPECT_THAT(events_.psyncs, ElementsAre("? -1"));
  EXPECT_THAT(events_.versions, ElementsAre("")) << "a Redis replica announces no version";
  // After the sync only ACKs count; other commands get no reply.
  replica_->Send(Command({"REPLCONF", "ACK", "42"}));
  replica_->Send(Command({"PING"}));
  replica_->Send(Command({"REPLCONF", "ACK", "43", "FACK", "40"}));
  Run(absl::Milliseconds(30));
  EXPECT_EQ(replica_->Take(), "");
  EXPECT_THAT(events_.acks, ElementsAre(42, 43));
}

TEST_F(DownstreamSessionTest, NewReplicationModesAreServedOnOneChannel) {
  // Redis 8 (repl-rdb-channel yes) and Valkey (dual-channel-replication-enabled
  // yes) announce their modes; a master that answers PSYNC with a plain
  // +FULLRESYNC serves them on this one connection. Valkey also says its version.
  Open();
  EXPECT_EQ(Ask(Command({"REPLCONF", "capa", "eof", "capa", "psync2", "capa", "rdb-channel-repl"})),
            "+OK\r\n");
  EXPECT_EQ(Ask(Command({"REPLCONF", "capa", "dual-channel", "capa", "skip-rdb-checksum"})),
            "+OK\r\n");
  EXPECT_EQ(Ask(Command({"REPLCONF", "version", "9.1.2"})), "+OK\r\n");
  events_.answer.kind = PsyncAnswer::Kind::kFullResync;
  events_.answer.replid = std::string(40, 'c');
  EXPECT_EQ(Ask(Command({"PSYNC", "?", "-1"})), "+FULLRESYNC " + std::string(40, 'c') + " 0\r\n");
  EXPECT_THAT(events_.versions, ElementsAre("9.1.2"));
}

TEST_F(DownstreamSessionTest, EncodesAContinueWithItsBacklog) {
  Open();
  Ask(Command({"REPLCONF", "capa", "eof"}));
  events_.answer.kind = PsyncAnswer::Kind::kContinue;
  events_.answer.replid = std::string(40, 'b');
  events_.answer.backlog = Command({"SET", "k", "v"});
  std::string expected = "+CONTINUE " + std::string(40, 'b') + "\r\n" + events_.answer.backlog;
  replica_->Send(Command({"PSYNC", std::string(40, 'b'), "100"}));
  ASSERT_TRUE(replica_->WaitForBytes(expected.size()));
  EXPECT_EQ(replica_->Take(), expected);
  EXPECT_THAT(events_.psyncs, ElementsAre(std::string(40, 'b') + " 100"));
  EXPECT_EQ(events_.written, 5 + expected.size());
}

TEST_F(DownstreamSessionTest, ARefusedPsyncLeavesTheHandshakeOpen) {
  Open();
  Ask(Command({"REPLCONF", "capa", "eof"}));
  events_.answer.kind = PsyncAnswer::Kind::kRefused;
  events_.answer.error = "ERR reshard: no";
  EXPECT_EQ(Ask(Command({"PSYNC", "x", "1"})), "-ERR reshard: no\r\n");
  EXPECT_EQ(Ask(Command({"PING"})), "+PONG\r\n");
}

TEST_F(DownstreamSessionTest, PasswordGatesEverythingButAuth) {
  Open(Credentials{"repl", "pw"});
  EXPECT_EQ(Ask(Command({"PING"})), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Ask(Command({"AUTH", "pw"})),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Ask(Command({"AUTH", "repl", "pw"})), "+OK\r\n");
  EXPECT_EQ(Ask(Command({"PING"})), "+PONG\r\n");
}

TEST_F(DownstreamSessionTest, GarbageClosesTheSessionWithAProtocolError) {
  Open();
  replica_->Send("*1\r\n$x\r\n");
  ASSERT_TRUE(replica_->RunUntil([&](const std::string&) { return replica_->closed_by_peer(); }));
  EXPECT_THAT(replica_->received(), HasSubstr("-ERR reshard: protocol error: "));
  ASSERT_EQ(events_.closes.size(), 1u);
  EXPECT_EQ(events_.closes[0].code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(session_->open());
}

TEST_F(DownstreamSessionTest, AnOversizedCommandCloses) {
  Open();
  replica_->Send("*1\r\n$100000\r\n" + std::string(70000, 'x'));
  ASSERT_TRUE(replica_->RunUntil([&](const std::string&) { return replica_->closed_by_peer(); }));
  ASSERT_EQ(events_.closes.size(), 1u);
  EXPECT_EQ(events_.closes[0].code(), absl::StatusCode::kDataLoss);
}

TEST_F(DownstreamSessionTest, EnqueuedBytesAreWrittenInOrderAndCounted) {
  Open();
  session_->Enqueue("abc");
  session_->Enqueue("def");
  ASSERT_TRUE(replica_->WaitForBytes(6));
  EXPECT_EQ(replica_->Take(), "abcdef");
  Run(absl::Milliseconds(10));
  EXPECT_EQ(events_.written, 6u);
  EXPECT_GE(events_.taken, 1);
  EXPECT_EQ(session_->queued_bytes(), 0u);
}

TEST_F(DownstreamSessionTest, AReplicaThatLeavesIsReportedOnce) {
  Open();
  replica_->Close();
  for (int i = 0; i < 100 && events_.closes.empty(); ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(events_.closes.size(), 1u);
  EXPECT_EQ(events_.closes[0].code(), absl::StatusCode::kUnavailable);
  session_->Close(absl::CancelledError("again"));
  EXPECT_EQ(events_.closes.size(), 1u);
}

TEST_F(DownstreamSessionTest, AReplicaThatOnlyPingsIsClosedAfterTheHandshakeTimeout) {
  Open(Credentials{}, absl::Milliseconds(300));
  absl::Time start = absl::Now();
  EXPECT_EQ(Ask(Command({"PING"})), "+PONG\r\n");
  ASSERT_TRUE(replica_->RunUntil([&](const std::string&) { return replica_->closed_by_peer(); }));
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(2));
  ASSERT_EQ(events_.closes.size(), 1u);
  EXPECT_EQ(events_.closes[0].code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(
      events_.closes[0].message(),
      absl::StrCat("replica ", session_->peer(), " did not complete its handshake within 300 ms"));
  EXPECT_THAT(session_->peer(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_FALSE(session_->open());
  EXPECT_FALSE(session_->synced());
  EXPECT_EQ(session_->last_ack_time(), absl::InfinitePast());
}

TEST_F(DownstreamSessionTest, ARefusedPsyncDoesNotStopTheHandshakeClock) {
  Open(Credentials{}, absl::Milliseconds(200));
  Ask(Command({"REPLCONF", "capa", "eof"}));
  events_.answer.kind = PsyncAnswer::Kind::kRefused;
  events_.answer.error = "ERR reshard: no";
  EXPECT_EQ(Ask(Command({"PSYNC", "x", "1"})), "-ERR reshard: no\r\n");
  ASSERT_TRUE(replica_->RunUntil([&](const std::string&) { return replica_->closed_by_peer(); }));
  ASSERT_EQ(events_.closes.size(), 1u);
  EXPECT_EQ(events_.closes[0].code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(DownstreamSessionTest, AReplicaThatSyncsInTimeStaysOpenAndItsAcksAreTimed) {
  Open(Credentials{}, absl::Milliseconds(200));
  Ask(Command({"REPLCONF", "capa", "eof"}));
  events_.answer.kind = PsyncAnswer::Kind::kFullResync;
  events_.answer.replid = std::string(40, 'a');
  absl::Time before_psync = absl::Now();
  EXPECT_EQ(Ask(Command({"PSYNC", "?", "-1"})), "+FULLRESYNC " + std::string(40, 'a') + " 0\r\n");
  EXPECT_TRUE(session_->synced());
  absl::Time answered = session_->last_ack_time();
  EXPECT_GE(answered, before_psync);
  EXPECT_LE(answered, absl::Now());
  Run(absl::Milliseconds(500));  // well past the handshake timeout
  EXPECT_TRUE(events_.closes.empty()) << events_.closes[0];
  EXPECT_TRUE(session_->open());
  EXPECT_FALSE(replica_->closed_by_peer());
  absl::Time before_ack = absl::Now();
  replica_->Send(Command({"REPLCONF", "ACK", "0"}));
  Run(absl::Milliseconds(30));
  EXPECT_THAT(events_.acks, ElementsAre(0));
  EXPECT_GE(session_->last_ack_time(), before_ack);
  EXPECT_GT(session_->last_ack_time(), answered);
}

TEST_F(DownstreamSessionTest, AContinueAlsoEndsTheHandshake) {
  Open(Credentials{}, absl::Milliseconds(200));
  Ask(Command({"REPLCONF", "capa", "eof"}));
  events_.answer.kind = PsyncAnswer::Kind::kContinue;
  events_.answer.replid = std::string(40, 'b');
  EXPECT_EQ(Ask(Command({"PSYNC", std::string(40, 'b'), "5"})),
            "+CONTINUE " + std::string(40, 'b') + "\r\n");
  Run(absl::Milliseconds(400));
  EXPECT_TRUE(events_.closes.empty());
  EXPECT_TRUE(session_->synced());
}

}  // namespace
}  // namespace reshard::engine
