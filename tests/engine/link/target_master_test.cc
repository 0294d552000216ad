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
  std::string FullSync(LoopbackPeer& replica) {
    replica.Send(Command({"REPLCONF", "capa", "eof", "capa", "psync2"}));
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

TEST_F(TargetMasterTest, RefusesAnUnknownReplicationId) {
  auto replica = Connect();
  Stream(*replica);
  master_->set_snapshot_rdb_version(11);
  auto other = Connect();
  other->Send(Command({"REPLCONF", "capa", "eof"}));
  other->Send(Command({"PSYNC", "?", "-1"}));
  ASSERT_TRUE(other->WaitFor("check the target's log)\r\n"));
  EXPECT_THAT(other->Take(),
              HasSubstr("-ERR reshard: target 't' cannot continue from offset -1 of replication "
                        "id ? (reshardd has id " +
                        master_->replid() +
                        ", offsets 1-1); a full resync of this target needs a new job (a target "
                        "that asks again for a full sync often could not load its snapshot: it "
                        "was RDB version 11; check the target's log)\r\n"));
}

TEST_F(TargetMasterTest, RefusesASecondReplicaDuringTheSnapshot) {
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  auto other = Connect();
  other->Send(Command({"REPLCONF", "capa", "eof"}));
  other->Send(Command({"PSYNC", "?", "-1"}));
  ASSERT_TRUE(other->WaitFor("connection\r\n"));
  EXPECT_THAT(other->Take(), HasSubstr("-ERR reshard: target 't' is receiving its snapshot on "
                                       "another connection\r\n"));
}

TEST_F(TargetMasterTest, ReplicaLostDuringItsSnapshotIsFatal) {
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  replica->Close();
  for (int i = 0; i < 100 && !fatal_.has_value(); ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(fatal_.has_value());
  EXPECT_EQ(fatal_->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(fatal_->message()),
              StartsWith("target 't' disconnected during its snapshot: replica "));
}

TEST_F(TargetMasterTest, HeldStreamPastItsBoundIsFatal) {
  TargetMaster::Options options;
  options.name = "t";
  options.listen = HostPort{"127.0.0.1", 0};
  options.max_held_stream_bytes = 10;
  Retire();
  master_ = std::make_unique<TargetMaster>(
      options, io_.get_executor(),
      TargetMaster::Callbacks{.on_fatal = [this](absl::Status s) { fatal_ = s; }});
  ASSERT_TRUE(master_->Listen().ok());
  master_->StartAccepting();
  auto replica = Connect();
  FullSync(*replica);
  master_->BeginSnapshot();
  master_->EndSnapshot();
  master_->AppendStream(Command({"SET", "key", "value"}));
  ASSERT_TRUE(fatal_.has_value());
  EXPECT_EQ(fatal_->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(fatal_->message()), HasSubstr("(options.max_held_stream_bytes)"));
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
