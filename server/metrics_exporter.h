#pragma once

// MetricsExporter: serves the jobs' counters on /metrics in the Prometheus
// text format. Nothing is registered ahead of time: JobMetricsCollector builds
// the metric families from JobManager snapshots at each scrape, so deleted
// jobs disappear and new ones appear without bookkeeping.
//
// Families (label job_id, plus target for reshard_target_*; not `job`, which
// Prometheus sets to the scrape job's name):
//   reshard_job_state{state}             gauge, 1 for the current state
//   reshard_bytes_received_total         counter
//   reshard_rdb_bytes_read_total         counter
//   reshard_rdb_keys_read_total          counter
//   reshard_rdb_keys_expected            gauge, source keys at job start (0 unknown)
//   reshard_upstream_connected           gauge 0/1
//   reshard_upstream_reconnects_total    counter
//   reshard_source_master_offset, reshard_source_lag_bytes, reshard_source_lag_seconds
//   reshard_upstream_acked_offset        gauge
//   reshard_target_state{state}          gauge, 1 for the target's current state
//   reshard_target_bytes_sent_total      counter
//   reshard_target_keys_{kept,dropped,materialized}_total
//   reshard_target_commands_{kept,dropped,split}_total
//   reshard_target_lag_bytes, reshard_target_lag_seconds, reshard_target_connected_replicas
//   reshard_target_spool_bytes, reshard_target_spool_disk_bytes
//   reshard_target_source_acked_offset   gauge
//   reshard_target_resyncs               gauge that only increases
//   reshard_cluster_node_{slots,acked_offset,lag_bytes,error}, reshard_cluster_node_
//   {commands,keys_restored,bytes_sent}_total, reshard_cluster_node_redirects_total{kind}
//                                        per master of a cluster target (label node too)
//   reshard_verify_running, reshard_verify_progress_ratio,
//   reshard_verify_keys_checked, reshard_verify_keys_per_second,
//   reshard_verify_problems{kind}, reshard_verify_unsettled,
//   reshard_verify_start_time_seconds   gauges of the running or last
//                                        verification (verified jobs only)
//   reshard_cutover_state{state}, reshard_cutover_write_pause_seconds
//                                        gauges of the last cutover

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "server/job_manager.h"

namespace reshard::server {

class JobMetricsCollector : public prometheus::Collectable {
 public:
  // `manager` must outlive the collector.
  explicit JobMetricsCollector(const JobManager* manager) : manager_(manager) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const JobManager* const manager_;
};

// The families for these jobs (what JobMetricsCollector::Collect returns).
std::vector<prometheus::MetricFamily> JobMetricFamilies(const std::vector<JobView>& jobs);

class MetricsExporter {
 public:
  // Serves http://<listen>/metrics ("host:port"; port 0 picks a free one).
  // UNAVAILABLE when the address cannot be bound. `manager` must outlive it.
  static absl::StatusOr<std::unique_ptr<MetricsExporter>> Start(const std::string& listen,
                                                                const JobManager* manager);
  ~MetricsExporter();  // stops the HTTP server

  int port() const { return port_; }

 private:
  MetricsExporter() = default;
  std::shared_ptr<JobMetricsCollector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace reshard::server
