// TargetMaster with its stream on disk (DurableStream) against a fake replica
// on loopback: nothing past the recorded offset is sent, a replica behind the
// in-memory backlog continues from the log, and a master of a new process
// continues the same stream from the log a previous one left.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "asio/io_context.hpp"
#include "engine/link/target_master.h"
#include "engine/resp/resp_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/loopback_peer.h"
#include "tests/support/temp_dir.h"

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

class TargetMasterRestoreTest : public ::testing::Test {
 protected:
  // A new master (a process's), logging to dir_ under the name "t0".
  std::unique_ptr<TargetMaster> MakeMaster() {
    TargetMaster::Options options;
    options.name = "t";
    options.listen_field = "targets[0].listen";
    options.listen = HostPort{"127.0.0.1", 0};
    options.backlog_bytes = 1024;
    options.log = StreamLog::Options{.dir = dir_.path(), .name = "t0", .segment_bytes = 4096};
    auto master =
        std::make_unique<TargetMaster>(options, io_.get_executor(), TargetMaster::Callbacks{});
    EXPECT_TRUE(master->Listen().ok());
    return master;
  }

  std::unique_ptr<LoopbackPeer> Connect(TargetMaster& master) {
    auto peer = std::make_unique<LoopbackPeer>(&io_, master.bound_port());
    EXPECT_TRUE(peer->connected());
    peer->Send(Command({"REPLCONF", "listening-port", "7001", "capa", "eof", "capa", "psync2"}));
    EXPECT_TRUE(peer->WaitFor("+OK\r\n"));
    peer->Take();
    return peer;
  }

  // A replica of a new log's stream: full sync, snapshot, first ACK.
  std::unique_ptr<LoopbackPeer> Streaming(TargetMaster& master) {
    EXPECT_TRUE(master.StartLog().ok());
    master.StartAccepting();
    auto replica = Connect(master);
    replica->Send(Command({"PSYNC", "?", "-1"}));
    EXPECT_TRUE(replica->WaitFor("\r\n"));
    master.BeginSnapshot();
    master.Write("RDB");
    master.EndSnapshot();
    replica->Send(Command({"REPLCONF", "ACK", "0"}));
    replica->RunFor(absl::Milliseconds(20));
    replica->Take();
    return replica;
  }

  testing::TempDir dir_{"target_master_restore_test"};
  asio::io_context io_;
};

TEST_F(TargetMasterRestoreTest, NothingPastTheRecordedOffsetIsSent) {
  auto master = MakeMaster();
  auto replica = Streaming(*master);
  std::string first = Command({"SET", "a", "1"});
  std::string second = Command({"SET", "b", "2"});
  master->AppendStream(first);
  master->SetRecordedOffset(first.size());
  master->AppendStream(second);
  ASSERT_TRUE(replica->WaitForBytes(first.size()));
  replica->RunFor(absl::Milliseconds(50));
  EXPECT_EQ(replica->Take(), first) << "the second command is not recorded yet";
  master->SetRecordedOffset(first.size() + second.size());
  ASSERT_TRUE(replica->WaitForBytes(second.size()));
  EXPECT_EQ(replica->Take(), second);
  EXPECT_TRUE(master->continuable());
  master->Close();
}

TEST_F(TargetMasterRestoreTest, AReplicaBehindTheBacklogContinuesFromTheLog) {
  auto master = MakeMaster();
  auto replica = Streaming(*master);
  std::string stream;
  for (int i = 0; i < 200; ++i) {  // about 6 KB: past the 1 KB backlog and a 4 KB segment
    std::string set = Command({"SET", absl::StrCat("key:", i), "value"});
    master->AppendStream(set);
    stream += set;
  }
  ASSERT_TRUE(replica->WaitForBytes(stream.size()));
  replica->Close();
  auto again = Connect(*master);
  again->Send(Command({"PSYNC", master->replid(), "1"}));
  std::string expected = absl::StrCat("+CONTINUE ", master->replid(), "\r\n", stream);
  ASSERT_TRUE(again->WaitForBytes(expected.size()));
  EXPECT_EQ(again->Take(), expected);
  master->Close();
}

TEST_F(TargetMasterRestoreTest, ANewProcessContinuesTheStreamFromTheLog) {
  std::string replid;
  std::string first = Command({"SET", "a", "1"});
  std::string second = Command({"SET", "b", "2"});
  std::string unrecorded = Command({"SET", "c", "3"});
  {
    auto master = MakeMaster();
    auto replica = Streaming(*master);
    master->AppendStream(first);
    master->AppendStream(second);
    master->SetRecordedOffset(first.size() + second.size());
    master->AppendStream(unrecorded);  // in the log, but past the record: cut at restore
    ASSERT_TRUE(replica->WaitForBytes(first.size() + second.size()));
    replica->Take();
    replid = master->replid();
    master->Close();
  }
  auto restored = MakeMaster();
  ASSERT_TRUE(restored->RestoreStream(replid, first.size() + second.size()).ok());
  EXPECT_EQ(restored->phase(), TargetMaster::Phase::kStreaming);
  EXPECT_EQ(restored->offset(), first.size() + second.size());
  TargetLinkStatus status = restored->Status();
  EXPECT_EQ(status.state, TargetLinkState::kDisconnected);
  EXPECT_THAT(status.reason, HasSubstr("waiting for it to reconnect after reshardd restarted"));
  restored->StartAccepting();
  // It had received the first command only.
  auto replica = Connect(*restored);
  replica->Send(Command({"PSYNC", replid, std::to_string(first.size() + 1)}));
  std::string expected = absl::StrCat("+CONTINUE ", replid, "\r\n", second);
  ASSERT_TRUE(replica->WaitForBytes(expected.size()));
  replica->RunFor(absl::Milliseconds(20));
  EXPECT_EQ(replica->Take(), expected);
  // The stream goes on at the recorded offset, as the job records it.
  std::string next = Command({"SET", "d", "4"});
  restored->AppendStream(next);
  replica->RunFor(absl::Milliseconds(20));
  EXPECT_EQ(replica->Take(), "");
  restored->SetRecordedOffset(restored->offset());
  ASSERT_TRUE(replica->WaitForBytes(next.size()));
  EXPECT_EQ(replica->Take(), next);
  EXPECT_EQ(restored->offset(), first.size() + second.size() + next.size());
  restored->Close();
}

TEST_F(TargetMasterRestoreTest, AReplicaAheadOfTheRecordGetsAFullResyncOfItsOwn) {
  std::string replid;
  std::string first = Command({"SET", "a", "1"});
  {
    auto master = MakeMaster();
    auto replica = Streaming(*master);
    master->AppendStream(first);
    replid = master->replid();
    master->Close();
  }
  auto restored = MakeMaster();
  ASSERT_TRUE(restored->RestoreStream(replid, 0).ok());  // recorded before the command
  restored->StartAccepting();
  auto replica = Connect(*restored);
  replica->Send(Command({"PSYNC", replid, std::to_string(first.size() + 1)}));
  ASSERT_TRUE(replica->WaitFor("\r\n"));
  EXPECT_THAT(replica->Take(), StartsWith("+FULLRESYNC "));
  EXPECT_NE(restored->replid(), replid) << "never a silent gap";
  EXPECT_EQ(restored->phase(), TargetMaster::Phase::kResyncing);
  restored->Close();
}

TEST_F(TargetMasterRestoreTest, ATargetThatCannotContinueIsRestoredNeedingAResync) {
  auto master = MakeMaster();
  master->RestoreNeedingResync(100, "it was resyncing when reshardd stopped");
  EXPECT_EQ(master->phase(), TargetMaster::Phase::kNeedsResync);
  EXPECT_FALSE(master->continuable());
  TargetLinkStatus status = master->Status();
  EXPECT_EQ(status.state, TargetLinkState::kDisconnected);
  EXPECT_THAT(status.reason, StartsWith("it was resyncing when reshardd stopped; needs a full "
                                        "resync when it asks again"));
  master->Close();
}

}  // namespace
}  // namespace reshard::engine
