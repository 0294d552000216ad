// TargetMaster against a fake replica on loopback: the handshake it answers,
// the snapshot framing, the stream held until the replica's first ACK, the
// backlog a reconnecting replica continues from, and what it refuses.

#include "engine/link/target_master.h"

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/io_context.hpp"
#include "engine/resp/resp_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback_peer.h"

namespace reshard::engine {
namespace {

using test::LoopbackPeer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Command(std::initializer_list<std::string_view> args) {
  std::string out;
  AppendCommand(&out, args);
  return out;
}

class TargetMasterTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeMaster(Credentials{}); }

  // A master's accept loop still runs on io_ after Close(): a replaced master
  // is kept until the test ends, as the job keeps its masters until its loop
  // has stopped.
  void Retire() {
    if (master_ == nullptr) return;
    master_->Close();
    retired_.push_back(std::move(master_));
  }

  void MakeMaster(Credentials credentials) {
    Retire();
    TargetMaster::Options options;
    options.name = "t";
    options.listen_field = "targets[0].listen";
    options.listen = HostPort{"127.0.0.1", 0};
    options.credentials = std::move(credentials);
    options.backlog_bytes = 1024;
    TargetMaster::Callbacks callbacks;
    callbacks.on_attach = [this] { ++attaches_; };
    callbacks.on_resync_needed = [this] { ++resyncs_needed_; };
    callbacks.on_fatal = [this](absl::Status status) { fatal_ = status; };
    master_ = std::make_unique<TargetMaster>(options, io_.get_executor(), callbacks);
    ASSERT_TRUE(master_->Listen().ok());
    master_->StartAccepting();
  }

  std::unique_ptr<LoopbackPeer> Connect() {
    auto peer = std::make_unique<LoopbackPeer>(&io_, master_->bound_port());
    EXPECT_TRUE(peer->connected());
    return peer;
  }

  // A replica that completed PSYNC ? -1; returns the +FULLRESYNC line.
  std::string FullSync(LoopbackPeer& replica, std::string_view listening_port = "7001") {
    replica.Send(
        Command({"REPLCONF", "listening-port", listening_port, "capa", "eof", "capa", "psync2"}));
    EXPECT_TRUE(replica.WaitFor("+OK\r\n"));
    replica.Take();
    replica.Send(Command({"PSYNC", "?", "-1"}));
    EXPECT_TRUE(replica.WaitFor("\r\n"));
    return replica.Take();
  }

  // FullSync, a snapshot "RDB", and the first ACK: the replica streams.
  void Stream(LoopbackPeer& replica) {
    FullSync(replica);
    master_->BeginSnapshot();
    master_->Write("RDB");
    master_->EndSnapshot();
    replica.Send(Command({"REPLCONF", "ACK", "0"}));
    replica.RunFor(absl::Milliseconds(20));
    replica.Take();
  }

  asio::io_context io_;
  std::vector<std::unique_ptr<TargetMaster>> retired_;
  std::unique_ptr<TargetMaster> master_;
  int attaches_ = 0;
  int resyncs_needed_ = 0;
  std::optional<absl::Status> fatal_;
};

TEST_F(TargetMasterTest, FullResyncGivesItsOwnReplidAtOffsetZero) {
  auto replica = Connect();
  std::string line = FullSync(*replica);
  EXPECT_EQ(line, absl::StrCat("+FULLRESYNC ", master_->replid(), " 0\r\n"));
  EXPECT_EQ(master_->replid().size(), 40u);
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kAttached);
  EXPECT_EQ(attaches_, 1);
  EXPECT_TRUE(master_->Status().attached);
  EXPECT_EQ(master_->Status().connected_replicas, 1u);
}

TEST_F(TargetMasterTest, KeepsTheVersionTheReplicaAnnounced) {
  auto replica = Connect();
  replica->Send(Command({"REPLCONF", "version", "9.1.2"}));
  ASSERT_TRUE(replica->WaitFor("+OK\r\n"));
  FullSync(*replica);
  EXPECT_EQ(master_->replica_version(), "9.1.2");
}

TEST_F(TargetMasterTest, SnapshotIsFramedWithAnEofMark) {
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  master_->Write("REDIS0011");
  master_->Write("payload");
  master_->EndSnapshot();
  ASSERT_TRUE(replica->WaitForBytes(5 + 40 + 2 + 16 + 40));
  std::string got = replica->Take();
  ASSERT_THAT(got, StartsWith("$EOF:"));
  std::string mark = got.substr(5, 40);
  EXPECT_EQ(got, absl::StrCat("$EOF:", mark, "\r\nREDIS0011payload", mark));
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kStreaming);
}

TEST_F(TargetMasterTest, StreamWaitsForTheFirstAckThenFlows) {
  auto replica = Connect();
  std::string fullresync = FullSync(*replica);
  master_->BeginSnapshot();
  master_->EndSnapshot();
  replica->RunFor(absl::Milliseconds(20));
  replica->Take();
  std::string set = Command({"SET", "k", "v"});
  master_->AppendStream(set);
  replica->RunFor(absl::Milliseconds(50));
  EXPECT_EQ(replica->Take(), "") << "nothing may follow the end mark before the replica's ACK";
  EXPECT_EQ(master_->offset(), set.size());
  replica->Send(Command({"REPLCONF", "ACK", "0"}));
  ASSERT_TRUE(replica->WaitForBytes(set.size()));
  EXPECT_EQ(replica->Take(), set);
  replica->Send(Command({"REPLCONF", "ACK", std::to_string(set.size())}));
  replica->RunFor(absl::Milliseconds(20));
  TargetLinkStatus status = master_->Status();
  EXPECT_EQ(status.offset, set.size());
  EXPECT_EQ(status.acked_offset, set.size());
  EXPECT_EQ(status.lag_bytes, 0u);
  // "+OK", the FULLRESYNC line, "$EOF:<mark>\r\n", the end mark, the stream.
  EXPECT_EQ(status.bytes_sent, 5 + fullresync.size() + 5 + 40 + 2 + 40 + set.size());
}

TEST_F(TargetMasterTest, ReconnectingReplicaContinuesFromTheBacklog) {
  auto replica = Connect();
  Stream(*replica);
  std::string first = Command({"SET", "a", "1"});
  std::string second = Command({"SET", "b", "2"});
  master_->AppendStream(first);
  master_->AppendStream(second);
  replica->Close();
  auto again = Connect();
  again->Send(Command({"REPLCONF", "capa", "eof"}));
  ASSERT_TRUE(again->WaitFor("+OK\r\n"));
  again->Take();
  again->Send(Command({"PSYNC", master_->replid(), std::to_string(first.size() + 1)}));
  std::string expected = absl::StrCat("+CONTINUE ", master_->replid(), "\r\n", second);
  ASSERT_TRUE(again->WaitForBytes(expected.size()));
  EXPECT_EQ(again->Take(), expected);
  EXPECT_FALSE(fatal_.has_value());
}

TEST_F(TargetMasterTest, AReplicaThatCannotContinueGetsAFullResyncOfItsOwn) {
  auto replica = Connect();
  Stream(*replica);
  master_->AppendStream(Command({"SET", "a", "1"}));
  std::string old_replid = master_->replid();
  uint64_t offset = master_->offset();
  auto other = Connect();
  std::string line = FullSync(*other);
  // A new replication id: no replica can continue the old stream past the gap
  // that the job's resync leaves in it.
  EXPECT_NE(master_->replid(), old_replid);
  EXPECT_EQ(line, absl::StrCat("+FULLRESYNC ", master_->replid(), " ", offset, "\r\n"));
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kResyncing);
  EXPECT_EQ(resyncs_needed_, 1);
  TargetLinkStatus status = master_->Status();
  EXPECT_EQ(status.state, TargetLinkState::kResyncing);
  EXPECT_EQ(status.resyncs, 1u);
  EXPECT_THAT(status.reason, HasSubstr("asked for a full sync: target 't' cannot continue from "
                                       "offset -1 of replication id ?"));
  // Stream bytes are the job's to hold meanwhile.
  master_->AppendStream(Command({"SET", "b", "2"}));
  EXPECT_EQ(master_->offset(), offset);
  // Its own snapshot, then the stream continues at the offset it was given.
  master_->BeginSnapshot();
  master_->Write("RDB2");
  master_->EndSnapshot();
  other->Send(Command({"REPLCONF", "ACK", std::to_string(offset)}));
  std::string set = Command({"SET", "c", "3"});
  master_->AppendStream(set);
  ASSERT_TRUE(other->WaitFor(set));
  std::string got = other->Take();
  ASSERT_THAT(got, StartsWith("$EOF:"));
  std::string mark = got.substr(5, 40);
  EXPECT_EQ(got, absl::StrCat("$EOF:", mark, "\r\nRDB2", mark, set));
  EXPECT_EQ(master_->offset(), offset + set.size());
  EXPECT_EQ(master_->Status().state, TargetLinkState::kStreaming);
}

TEST_F(TargetMasterTest, RefusesASecondReplicaDuringTheSnapshot) {
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  auto other = Connect();
  other->Send(Command({"REPLCONF", "listening-port", "7001", "capa", "eof"}));
  other->Send(Command({"PSYNC", "?", "-1"}));
  ASSERT_TRUE(other->WaitFor("connection\r\n"));
  EXPECT_THAT(other->Take(), HasSubstr("-ERR reshard: target 't' is receiving its snapshot on "
                                       "another connection\r\n"));
}

TEST_F(TargetMasterTest, AReplicaLostDuringItsSnapshotNeedsAResync) {
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  master_->Write("RDB");
  replica->Close();
  for (int i = 0; i < 100 && master_->phase() == TargetMaster::Phase::kSnapshot; ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(fatal_.has_value()) << "only this target is affected";
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kNeedsResync);
  TargetLinkStatus status = master_->Status();
  EXPECT_EQ(status.state, TargetLinkState::kDisconnected);
  EXPECT_THAT(status.reason, StartsWith("disconnected during its snapshot (replica "));
  EXPECT_THAT(status.reason, HasSubstr("; needs a full resync when it asks again"));
  master_->Write("more");  // the rest of the job's snapshot goes nowhere
  master_->EndSnapshot();
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kNeedsResync);
  auto again = Connect();
  FullSync(*again);
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kResyncing);
  EXPECT_EQ(resyncs_needed_, 1);
}

TEST_F(TargetMasterTest, AReplicaAbsentWhenTheSnapshotBeginsNeedsAResync) {
  auto replica = Connect();
  FullSync(*replica);
  replica->Close();
  for (int i = 0; i < 100 && master_->phase() == TargetMaster::Phase::kAttached; ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kWaiting);
  auto again = Connect();
  FullSync(*again);
  again->Close();
  for (int i = 0; i < 100 && master_->phase() == TargetMaster::Phase::kAttached; ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  master_->BeginSnapshot();
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kNeedsResync);
  EXPECT_EQ(master_->Status().reason,
            "not connected when its snapshot began; needs a full resync when it asks again");
}

TEST_F(TargetMasterTest, StreamPastTheSpoolBoundCutsTheTargetOff) {
  TargetMaster::Options options;
  options.name = "t";
  options.listen = HostPort{"127.0.0.1", 0};
  options.max_queue_bytes = 8;
  options.spool_max_bytes = 80;
  Retire();
  master_ = std::make_unique<TargetMaster>(options, io_.get_executor(), TargetMaster::Callbacks{});
  ASSERT_TRUE(master_->Listen().ok());
  master_->StartAccepting();
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  master_->EndSnapshot();
  replica->RunFor(absl::Milliseconds(20));  // the snapshot leaves the socket's queue
  replica->Take();
  // The replica never ACKs: the stream waits for it, then passes the bound.
  std::string set = Command({"SET", "key", "value"});
  int appended = 0;
  while (master_->phase() == TargetMaster::Phase::kStreaming && appended < 10) {
    master_->AppendStream(set);
    ++appended;
  }
  EXPECT_EQ(appended, 3) << "the third command passes 80 bytes";
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kNeedsResync);
  TargetLinkStatus status = master_->Status();
  EXPECT_EQ(status.state, TargetLinkState::kCutOff);
  EXPECT_EQ(status.reason,
            absl::StrCat("cut off: ", 3 * set.size(),
                         " bytes of stream waited for it (options.spool_max_bytes = 80); needs a "
                         "full resync when it asks again"));
  EXPECT_EQ(status.spool_bytes, 0u);
  LoopbackPeer* peer = replica.get();
  EXPECT_TRUE(peer->RunUntil([peer](const std::string&) { return peer->closed_by_peer(); }));
}

TEST_F(TargetMasterTest, ADisconnectedReplicaContinuesWithWhatWasKeptForIt) {
  auto replica = Connect();
  Stream(*replica);
  std::string first = Command({"SET", "a", "1"});
  master_->AppendStream(first);
  ASSERT_TRUE(replica->WaitForBytes(first.size()));
  replica->Close();
  for (int i = 0; i < 100 && master_->Status().connected_replicas > 0; ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(master_->Status().state, TargetLinkState::kDisconnected);
  // Written while it is away: kept in its outbox, not lost.
  std::string second = Command({"SET", "b", "2"});
  master_->AppendStream(second);
  auto again = Connect();
  again->Send(Command({"REPLCONF", "capa", "eof"}));
  ASSERT_TRUE(again->WaitFor("+OK\r\n"));
  again->Take();
  again->Send(Command({"PSYNC", master_->replid(), "1"}));
  std::string expected = absl::StrCat("+CONTINUE ", master_->replid(), "\r\n", first, second);
  ASSERT_TRUE(again->WaitForBytes(expected.size()));
  EXPECT_EQ(again->Take(), expected);
  EXPECT_EQ(master_->Status().state, TargetLinkState::kStreaming);
}

TEST_F(TargetMasterTest, PausedDeliveryKeepsTheStreamUntilResumed) {
  auto replica = Connect();
  Stream(*replica);
  master_->SetDeliveryPaused(true);
  std::string set = Command({"SET", "a", "1"});
  master_->AppendStream(set);
  replica->RunFor(absl::Milliseconds(50));
  EXPECT_EQ(replica->Take(), "");
  TargetLinkStatus status = master_->Status();
  EXPECT_EQ(status.state, TargetLinkState::kPaused);
  EXPECT_EQ(status.spool_bytes, set.size());
  master_->SetDeliveryPaused(false);
  ASSERT_TRUE(replica->WaitForBytes(set.size()));
  EXPECT_EQ(replica->Take(), set);
}

TEST_F(TargetMasterTest, AnotherReplicaDoesNotReplaceALiveOne) {
  auto replica = Connect();
  Stream(*replica);
  auto intruder = Connect();
  EXPECT_THAT(FullSync(*intruder, "7999"),
              HasSubstr("-ERR reshard: target 't' already has a live replica (127.0.0.1, "
                        "listening-port 7001); another replaces it only from the same host and "
                        "listening-port, or once it has been silent for 5s\r\n"));
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kStreaming);
  EXPECT_EQ(master_->Status().state, TargetLinkState::kStreaming);
  // The attached replica still gets its stream.
  std::string set = Command({"SET", "a", "1"});
  master_->AppendStream(set);
  ASSERT_TRUE(replica->WaitForBytes(set.size()));
  EXPECT_EQ(replica->Take(), set);
}

TEST_F(TargetMasterTest, ListenErrorsNameTheField) {
  TargetMaster::Options options;
  options.name = "t";
  options.listen_field = "targets[3].listen";
  options.listen = HostPort{"127.0.0.1", master_->bound_port()};
  TargetMaster second(options, io_.get_executor(), {});
  absl::Status status = second.Listen();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()),
              StartsWith(absl::StrCat(
                  "targets[3].listen: cannot listen on 127.0.0.1:", master_->bound_port(), ": ")));
}

TEST_F(TargetMasterTest, PasswordIsRequiredBeforeTheHandshake) {
  MakeMaster(Credentials{"", "secret"});
  auto replica = Connect();
  replica->Send(Command({"PSYNC", "?", "-1"}));
  ASSERT_TRUE(replica->WaitFor("\r\n"));
  EXPECT_EQ(replica->Take(), "-NOAUTH Authentication required.\r\n");
  replica->Send(Command({"AUTH", "wrong"}));
  ASSERT_TRUE(replica->WaitFor("\r\n"));
  EXPECT_EQ(replica->Take(), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(master_->phase(), TargetMaster::Phase::kWaiting);
  replica->Send(Command({"AUTH", "secret"}));
  ASSERT_TRUE(replica->WaitFor("\r\n"));
  EXPECT_EQ(replica->Take(), "+OK\r\n");
  EXPECT_THAT(FullSync(*replica), StartsWith("+FULLRESYNC "));
}

}  // namespace
}  // namespace reshard::engine
