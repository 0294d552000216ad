// JobMetricFamilies in the Prometheus text format: the exact lines a scrape
// gets for a job (label job_id, never `job`) and its targets.

#include "server/metrics_exporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "prometheus/text_serializer.h"

namespace reshard::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Exposition(const std::vector<JobView>& jobs) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, JobMetricFamilies(jobs));
  return out.str();
}

JobView DegradedJob() {
  JobView job;
  job.id = "split-1";
  engine::JobStatus& s = job.status;
  s.state = engine::JobState::kDegraded;
  s.bytes_received = 5000;
  s.rdb_keys_read = 70;
  s.rdb_keys_total = 100;
  s.source_offset = 4000;
  s.source_master_offset = 4600;
  s.source_lag_bytes = 600;
  s.source_lag_seconds = 2.5;
  s.upstream_acked_offset = 3900;
  s.upstream_connected = true;
  engine::TargetStatus a;
  a.name = "a";
  a.state = engine::TargetState::kStreaming;
  a.source_acked_offset = 4000;
  engine::TargetStatus b;
  b.name = "b";
  b.state = engine::TargetState::kSpooling;
  b.state_reason = "behind";
  b.spool_bytes = 9000;
  b.spool_disk_bytes = 4096;
  b.source_acked_offset = 3900;
  b.resyncs = 2;
  s.targets = {a, b};
  return job;
}

TEST(MetricsExporterTest, JobLevelLinesUseJobId) {
  const std::string text = Exposition({DegradedJob()});
  for (const char* line : {
           "reshard_job_state{job_id=\"split-1\",state=\"DEGRADED\"} 1\n",
           "reshard_job_state{job_id=\"split-1\",state=\"STREAMING\"} 0\n",
           "reshard_bytes_received_total{job_id=\"split-1\"} 5000\n",
           "reshard_rdb_keys_read_total{job_id=\"split-1\"} 70\n",
           "reshard_rdb_keys_expected{job_id=\"split-1\"} 100\n",
           "reshard_source_master_offset{job_id=\"split-1\"} 4600\n",
           "reshard_source_lag_bytes{job_id=\"split-1\"} 600\n",
           "reshard_source_lag_seconds{job_id=\"split-1\"} 2.5\n",
           "reshard_upstream_acked_offset{job_id=\"split-1\"} 3900\n",
           "reshard_upstream_connected{job_id=\"split-1\"} 1\n",
           "# TYPE reshard_source_lag_seconds gauge\n",
           "# TYPE reshard_target_resyncs gauge\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line)) << line;
  }
  EXPECT_THAT(text, Not(HasSubstr("{job=")));
}

TEST(MetricsExporterTest, SourceFailoversByKindAndTheSourceAddress) {
  JobView job = DegradedJob();
  job.spec.source.address = "10.0.0.1:6379";
  EXPECT_THAT(Exposition({job}),
              HasSubstr("reshard_source_info{job_id=\"split-1\",address=\"10.0.0.1:6379\"} 1\n"));
  job.status.source_address = "10.0.0.2:6379";
  engine::SourceFailover failover;
  failover.kind = engine::SourceFailover::Kind::kPartial;
  job.status.source_failovers = {failover, failover};
  failover.kind = engine::SourceFailover::Kind::kFull;
  job.status.source_failovers.push_back(failover);
  failover.kind = engine::SourceFailover::Kind::kPending;  // not counted yet
  job.status.source_failovers.push_back(failover);
  // The job's totals (records dropped from the kept list, restarts of
  // reshardd included), not a count of the records it shows.
  job.status.source_failovers_partial = 40;
  job.status.source_failovers_full = 3;
  const std::string text = Exposition({job});
  for (const char* line : {
           "# TYPE reshard_source_failovers_total counter\n",
           "reshard_source_failovers_total{job_id=\"split-1\",kind=\"partial\"} 40\n",
           "reshard_source_failovers_total{job_id=\"split-1\",kind=\"full\"} 3\n",
           "reshard_source_info{job_id=\"split-1\",address=\"10.0.0.2:6379\"} 1\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line)) << line;
  }
  EXPECT_THAT(text, Not(HasSubstr("10.0.0.1:6379")));
}

TEST(MetricsExporterTest, TargetStateIsOneHotOverEveryState) {
  const std::string text = Exposition({DegradedJob()});
  const char* kStates[] = {"WAITING",   "SNAPSHOT", "LOADING",      "STREAMING", "SPOOLING",
                           "RESYNCING", "CUT_OFF",  "DISCONNECTED", "PAUSED"};
  for (const char* state : kStates) {
    const std::string prefix =
        std::string("reshard_target_state{job_id=\"split-1\",target=\"b\",state=\"") + state +
        "\"} ";
    EXPECT_THAT(text, HasSubstr(prefix + (std::string(state) == "SPOOLING" ? "1\n" : "0\n")))
        << state;
  }
  EXPECT_THAT(
      text,
      HasSubstr("reshard_target_state{job_id=\"split-1\",target=\"a\",state=\"STREAMING\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("reshard_target_state{job_id=\"split-1\",target=\"a\",state=\"SPOOLING\"} 0\n"));
}

TEST(MetricsExporterTest, TargetSpoolOffsetAndResyncLines) {
  const std::string text = Exposition({DegradedJob()});
  for (const char* line : {
           "reshard_target_spool_bytes{job_id=\"split-1\",target=\"b\"} 9000\n",
           "reshard_target_spool_disk_bytes{job_id=\"split-1\",target=\"b\"} 4096\n",
           "reshard_target_source_acked_offset{job_id=\"split-1\",target=\"b\"} 3900\n",
           "reshard_target_resyncs{job_id=\"split-1\",target=\"b\"} 2\n",
           "reshard_target_spool_bytes{job_id=\"split-1\",target=\"a\"} 0\n",
           "reshard_target_source_acked_offset{job_id=\"split-1\",target=\"a\"} 4000\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line)) << line;
  }
}

TEST(MetricsExporterTest, ClusterTargetNodesHaveANodeLabel) {
  // No cluster target: no cluster families at all.
  EXPECT_THAT(Exposition({DegradedJob()}), Not(HasSubstr("reshard_cluster_node")));
  JobView job = DegradedJob();
  engine::ClusterNodeStatus node;
  node.address = "10.0.0.7:7001";
  node.slots = 5462;
  node.commands = 1200;
  node.keys_restored = 1000;
  node.bytes_sent = 64000;
  node.acked_offset = 9000;
  node.lag_bytes = 120;
  node.moved = 2;
  node.ask = 5;
  node.retries = 1;
  node.last_error = "refused";
  job.status.targets[1].cluster_nodes.push_back(node);
  const std::string text = Exposition({job});
  const std::string labels = "{job_id=\"split-1\",target=\"b\",node=\"10.0.0.7:7001\"";
  for (const std::string& line : {
           "reshard_cluster_node_slots" + labels + "} 5462\n",
           "reshard_cluster_node_commands_total" + labels + "} 1200\n",
           "reshard_cluster_node_keys_restored_total" + labels + "} 1000\n",
           "reshard_cluster_node_bytes_sent_total" + labels + "} 64000\n",
           "reshard_cluster_node_acked_offset" + labels + "} 9000\n",
           "reshard_cluster_node_lag_bytes" + labels + "} 120\n",
           "reshard_cluster_node_error" + labels + "} 1\n",
           "reshard_cluster_node_redirects_total" + labels + ",kind=\"moved\"} 2\n",
           "reshard_cluster_node_redirects_total" + labels + ",kind=\"ask\"} 5\n",
           "reshard_cluster_node_redirects_total" + labels + ",kind=\"retry\"} 1\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line)) << line;
  }
  EXPECT_THAT(text, HasSubstr("# TYPE reshard_cluster_node_redirects_total counter\n"));
}

TEST(MetricsExporterTest, VerificationAndCutoverLines) {
  JobView verified = DegradedJob();
  engine::VerifyReport report;
  report.state = engine::VerifyState::kRunning;
  report.keys_checked = 1000;
  report.keys_total = 4000;
  report.keys_scanned = 1000;
  report.missing = 3;
  report.stray = 2;
  report.different = 1;
  report.unsettled = 4;
  report.started = absl::FromUnixSeconds(1700000000);
  report.duration = absl::Seconds(4);
  verified.last_verification = report;
  engine::CutoverReport cutover;
  cutover.state = engine::CutoverState::kRolledBack;
  cutover.write_pause_ms = 250;
  verified.status.cutover = cutover;
  JobView never = DegradedJob();
  never.id = "split-2";
  const std::string text = Exposition({verified, never});
  for (const char* line : {
           "# TYPE reshard_verify_problems gauge\n",
           "reshard_verify_running{job_id=\"split-1\"} 1\n",
           "reshard_verify_progress_ratio{job_id=\"split-1\"} 0.25\n",
           "reshard_verify_keys_checked{job_id=\"split-1\"} 1000\n",
           "reshard_verify_keys_per_second{job_id=\"split-1\"} 250\n",
           "reshard_verify_problems{job_id=\"split-1\",kind=\"missing\"} 3\n",
           "reshard_verify_problems{job_id=\"split-1\",kind=\"stray\"} 2\n",
           "reshard_verify_problems{job_id=\"split-1\",kind=\"different\"} 1\n",
           "reshard_verify_unsettled{job_id=\"split-1\"} 4\n",
           "reshard_verify_start_time_seconds{job_id=\"split-1\"} 1700000000\n",
           "reshard_cutover_state{job_id=\"split-1\",state=\"ROLLED_BACK\"} 1\n",
           "reshard_cutover_state{job_id=\"split-1\",state=\"DONE\"} 0\n",
           "reshard_cutover_write_pause_seconds{job_id=\"split-1\"} 0.25\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line)) << line;
  }
  // A job never verified nor cut over has no such samples.
  EXPECT_THAT(text, Not(HasSubstr("reshard_verify_running{job_id=\"split-2\"}")));
  EXPECT_THAT(text, Not(HasSubstr("reshard_cutover_state{job_id=\"split-2\"")));
}

TEST(MetricsExporterTest, NoJobsNoSamples) {
  for (const auto& family : JobMetricFamilies({})) {
    EXPECT_TRUE(family.metric.empty()) << family.name;
  }
}

}  // namespace
}  // namespace reshard::server
