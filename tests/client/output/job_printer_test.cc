// PrintJob (`get`, `-o wide`), PrintJobCompact (`watch` frames) and
// PrintJobTable (`list`, `-o wide`): the exact text for a DEGRADED job with a
// spooling target, a diskless snapshot counted in keys (or not even that),
// and a job whose source offset is not known yet.

#include "client/output/job_printer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/text_format.h"

namespace reshard::client {
namespace {

v1::Job JobFromText(const std::string& text) {
  v1::Job job;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &job)) << text;
  return job;
}

// Two targets, b spooling behind (partly on disk); the RDB came diskless.
v1::Job DegradedJob() {
  return JobFromText(R"pb(
    id: "split"
    spec {
      source { address: "127.0.0.1:7000" }
      targets {
        name: "a"
        filter { prefix: "a:" }
        listen: "127.0.0.1:7001"
      }
      targets {
        name: "b"
        filter { slots: "0-8191" }
        listen: "127.0.0.1:7002"
      }
    }
    status {
      state: DEGRADED
      detail: "target b is spooling"
      bytes_received: 5000
      rdb { bytes_total: 0 bytes_read: 2048 keys_read: 70 keys_total: 100 }
      source_offset: 4000
      source_master_offset: 4600
      source_lag_bytes: 600
      source_lag_seconds: 2.5
      upstream_acked_offset: 3900
      upstream_connected: true
      targets {
        name: "a"
        state: STREAMING
        connected_replicas: 1
        rdb_keys_kept: 30
        source_acked_offset: 4000
      }
      targets {
        name: "b"
        state: SPOOLING
        state_reason: "9000 bytes behind"
        connected_replicas: 1
        rdb_keys_kept: 40
        spool_bytes: 9000
        spool_disk_bytes: 4096
        source_acked_offset: 3900
        resyncs: 2
      }
    }
  )pb");
}

std::string Get(const v1::Job& job, bool wide = false) {
  std::ostringstream out;
  PrintJob(job, wide, out);
  return out.str();
}

std::string Frame(const v1::Job& job, const WatchRates& rates = {}) {
  std::ostringstream out;
  PrintJobCompact(job, rates, out);
  return out.str();
}

const char kDegradedHead[] =
    "job split: DEGRADED\n"
    "  detail:   target b is spooling\n"
    "  source:   127.0.0.1:7000 (connected, offset 4000, 0 reconnects, 4.9 KiB received)\n"
    "  lag:      600 B, 2.5 s behind the source (master offset 4600, applied 4000)\n"
    "  upstream: acked offset 3900\n"
    "  rdb:      done, 70 keys, 2.0 KiB (the source had 100 keys at the start)\n";

TEST(JobPrinterTest, GetShowsSourceLagUpstreamAckAndTargetStates) {
  EXPECT_EQ(
      Get(DegradedJob()),
      std::string(kDegradedHead) +
          "  TARGET  STATE      REPLICAS  KEYS KEPT  SENT  LAG  SPOOL                      "
          "RESYNCS\n"
          "  a       STREAMING  1         30         0 B   0 B  0 B                        0\n"
          "  b       SPOOLING   1         40         0 B   0 B  8.8 KiB (4.0 KiB on disk)  "
          "2\n"
          "  target b: SPOOLING: 9000 bytes behind\n");
}

TEST(JobPrinterTest, GetWideShowsEveryColumn) {
  EXPECT_EQ(
      Get(DegradedJob(), /*wide=*/true),
      std::string(kDegradedHead) +
          "  TARGET  FILTER        LISTEN          STATE      REPLICAS  KEYS KEPT  KEYS DROPPED  "
          "CMDS KEPT  CMDS DROPPED  SPLIT  MATERIALIZED  SENT  LAG  LAG S  SPOOL                   "
          "   "
          "SOURCE ACKED  RESYNCS\n"
          "  a       prefix:a:     127.0.0.1:7001  STREAMING  1         30         0             "
          "0          0             0      0             0 B   0 B  0.0    0 B                     "
          "   "
          "4000          0\n"
          "  b       slots:0-8191  127.0.0.1:7002  SPOOLING   1         40         0             "
          "0          0             0      0             0 B   0 B  0.0    8.8 KiB (4.0 KiB on "
          "disk)  "
          "3900          2\n"
          "  target b: SPOOLING: 9000 bytes behind\n");
}

TEST(JobPrinterTest, GetShowsEveryMasterOfAClusterTarget) {
  v1::Job job = DegradedJob();
  v1::TargetStatus* b = job.mutable_status()->mutable_targets(1);
  v1::ClusterNodeStatus* n1 = b->add_cluster_nodes();
  n1->set_address("10.0.0.7:7001");
  n1->set_slots(8192);
  n1->set_slot_ranges("0-8191");
  n1->set_commands(1200);
  n1->set_keys_restored(1000);
  n1->set_bytes_sent(64000);
  n1->set_acked_offset(9000);
  n1->set_moved(2);
  n1->set_ask(5);
  v1::ClusterNodeStatus* n2 = b->add_cluster_nodes();
  n2->set_address("10.0.0.7:7002");
  n2->set_slots(8192);
  n2->set_slot_ranges("8192-16383");
  n2->set_acked_offset(8000);
  n2->set_lag_bytes(1000);
  n2->set_retries(3);
  n2->set_last_error("connection refused");
  const std::string nodes =
      "\n  cluster target b:\n"
      "    NODE           SLOTS  COMMANDS  KEYS RESTORED  SENT      ACKED  LAG     MOVED  ASK  "
      "RETRIES\n"
      "    10.0.0.7:7001  8192   1200      1000           62.5 KiB  9000   0 B     2      5    "
      "0\n"
      "    10.0.0.7:7002  8192   0         0              0 B       8000   1000 B  0      0    "
      "3\n"
      "    node 10.0.0.7:7002: last error: connection refused\n";
  const std::string text = Get(job);
  EXPECT_TRUE(absl::EndsWith(text, "  target b: SPOOLING: 9000 bytes behind\n" + nodes)) << text;
  EXPECT_THAT(Get(job, /*wide=*/true), ::testing::HasSubstr("RETRIES  SLOT RANGES\n"));
  EXPECT_THAT(Get(job, /*wide=*/true), ::testing::HasSubstr("3        8192-16383\n"));
}

TEST(JobPrinterTest, WatchFrameIsCompactWithRates) {
  const std::string targets =
      "  a: STREAMING, spool 0 B, source acked 4000, 0 resyncs\n"
      "  b: SPOOLING (9000 bytes behind), spool 8.8 KiB (4.0 KiB on disk), source acked 3900, "
      "2 resyncs\n";
  WatchRates rates;
  rates.received_bytes_per_second = 3 * 1024 * 1024;
  EXPECT_EQ(Frame(DegradedJob(), rates),
            "job split: DEGRADED\n"
            "  detail:   target b is spooling\n"
            "  source:   connected, reading 3.0 MiB/s, lag 600 B / 2.5 s, offset 4000 of 4600, "
            "upstream acked 3900\n"
            "  rdb:      done, 70 keys, 2.0 KiB (the source had 100 keys at the start)\n" +
                targets);
}

// A diskless snapshot in progress: no size, but the source's key count.
v1::Job DisklessSync(uint64_t keys_total) {
  v1::Job job = JobFromText(R"pb(
    id: "diskless"
    spec { source { address: "127.0.0.1:7000" } }
    status {
      state: SYNCING
      upstream_connected: true
      rdb { bytes_total: 0 bytes_read: 2048 keys_read: 70 }
    }
  )pb");
  job.mutable_status()->mutable_rdb()->set_keys_total(keys_total);
  return job;
}

TEST(JobPrinterTest, DisklessSnapshotShowsKeyRateAndEta) {
  WatchRates rates;
  rates.rdb_keys_per_second = 10.0;
  EXPECT_EQ(Frame(DisklessSync(100), rates),
            "job diskless: SYNCING\n"
            "  source:   connected, lag ?, offset 0, upstream acked 0\n"
            "  rdb:      [#####################---------]  70% 70 / 100 keys, 10.0 keys/s, "
            "ETA 3s, 2.0 KiB read\n");
  // No rate measured yet (the first frame).
  EXPECT_THAT(Frame(DisklessSync(100)),
              ::testing::HasSubstr("  rdb:      [#####################---------]  70% 70 / 100 "
                                   "keys, 2.0 KiB read\n"));
}

TEST(JobPrinterTest, SnapshotOfUnknownSizeAndKeyCountShowsNoBar) {
  // Regression: this was an indeterminate bar, "[??????????]    ?".
  WatchRates rates;
  rates.rdb_keys_per_second = 12.5;
  const std::string frame = Frame(DisklessSync(0), rates);
  EXPECT_THAT(frame, ::testing::HasSubstr(
                         "  rdb:      70 keys, 2.0 KiB read (size unknown), 12.5 keys/s\n"));
  EXPECT_THAT(frame, ::testing::Not(::testing::HasSubstr("?]")));
}

TEST(JobPrinterTest, UnknownSourceOffsetAndKnownRdbSize) {
  v1::Job job = JobFromText(R"pb(
    id: "early"
    spec { source { address: "127.0.0.1:7000" } }
    status {
      state: SYNCING
      rdb { bytes_total: 4096 bytes_read: 1024 keys_read: 3 keys_total: 10 }
      source_offset: 0
    }
  )pb");
  // The RDB size is known: progress by bytes, with the byte rate and ETA.
  WatchRates rates;
  rates.rdb_bytes_per_second = 1024;
  rates.rdb_keys_per_second = 1.0;
  EXPECT_EQ(Frame(job, rates),
            "job early: SYNCING\n"
            "  source:   not connected, lag ?, offset 0, upstream acked 0\n"
            "  rdb:      [#######-----------------------]  25% 1.0 KiB / 4.0 KiB, 3 keys, "
            "1.0 KiB/s, ETA 3s\n");
  EXPECT_EQ(Get(job),
            "job early: SYNCING\n"
            "  source:   127.0.0.1:7000 (not connected, offset 0, 0 reconnects, 0 B received)\n"
            "  lag:      unknown (the source's offset is not known yet)\n"
            "  upstream: acked offset 0\n"
            "  rdb:      [#######-----------------------]  25% 1.0 KiB / 4.0 KiB, 3 keys\n"
            "  TARGET  STATE  REPLICAS  KEYS KEPT  SENT  LAG  SPOOL  RESYNCS\n");
}

TEST(JobPrinterTest, SourceThatIsAReplicaNamesItsMaster) {
  v1::Job job = DegradedJob();
  job.mutable_status()->set_source_role("replica");
  job.mutable_status()->set_source_master_address("10.0.0.1:6379");
  job.mutable_status()->set_source_master_link_status("up");
  const std::string text = Get(job);
  EXPECT_TRUE(absl::StrContains(
      text,
      "  source:   127.0.0.1:7000 (connected, offset 4000, 0 reconnects, 4.9 KiB received)\n"
      "  role:     replica of 10.0.0.1:6379 (master link up)\n"
      "  lag:      "))
      << text;
  // A master: no role line (the default).
  job.mutable_status()->set_source_role("master");
  job.mutable_status()->clear_source_master_address();
  EXPECT_FALSE(absl::StrContains(Get(job), "role:"));
}

TEST(JobPrinterTest, ListWideShowsLinkLagAndTargetStates) {
  v1::ListJobsResponse jobs;
  *jobs.add_jobs() = DegradedJob();
  std::ostringstream narrow, wide;
  PrintJobTable(jobs, /*wide=*/false, narrow);
  PrintJobTable(jobs, /*wide=*/true, wide);
  EXPECT_EQ(narrow.str(),
            "ID     STATE     SOURCE          TARGETS  DETAIL\n"
            "split  DEGRADED  127.0.0.1:7000  2        target b is spooling\n");
  EXPECT_EQ(wide.str(),
            "ID     STATE     SOURCE          TARGETS  UPSTREAM   SOURCE LAG     TARGET STATES"
            "           DETAIL\n"
            "split  DEGRADED  127.0.0.1:7000  2        connected  600 B / 2.5 s  "
            "a=STREAMING,b=SPOOLING  target b is spooling\n");
}

}  // namespace
}  // namespace reshard::client
