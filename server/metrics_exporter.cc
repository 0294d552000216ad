#include "server/metrics_exporter.h"

#include <exception>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"

namespace reshard::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr engine::JobState kAllStates[] = {
    engine::JobState::kPending,   engine::JobState::kConnecting, engine::JobState::kSyncing,
    engine::JobState::kStreaming, engine::JobState::kPaused,     engine::JobState::kFailed,
    engine::JobState::kCancelled,
};

MetricFamily Family(const char* name, const char* help, MetricType type) {
  MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

void Add(MetricFamily& family, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

// A per-target family and how to read its value from a TargetStatus.
struct TargetFamily {
  MetricFamily family;
  double (*value)(const engine::TargetStatus&);
};

}  // namespace

std::vector<MetricFamily> JobMetricFamilies(const std::vector<JobView>& jobs) {
  MetricFamily state = Family(
      "reshard_job_state", "Current state of the job: 1 for the state it is in, 0 for the others.",
      MetricType::Gauge);
  MetricFamily bytes_received = Family(
      "reshard_bytes_received_total",
      "Bytes received from the source (RDB snapshot and command stream).", MetricType::Counter);
  MetricFamily rdb_bytes = Family("reshard_rdb_bytes_read_total",
                                  "Bytes of the source's RDB snapshot read.", MetricType::Counter);
  MetricFamily rdb_keys = Family("reshard_rdb_keys_read_total",
                                 "Keys of the source's RDB snapshot read.", MetricType::Counter);
  MetricFamily upstream_connected =
      Family("reshard_upstream_connected",
             "1 while the replication link to the source is connected, else 0.", MetricType::Gauge);
  MetricFamily upstream_reconnects =
      Family("reshard_upstream_reconnects_total",
             "Times the replication link to the source was re-established.", MetricType::Counter);

  std::vector<TargetFamily> targets = {
      {Family("reshard_target_bytes_sent_total",
              "Bytes written to the target (RDB snapshot and command stream).",
              MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.bytes_sent); }},
      {Family("reshard_target_keys_kept_total", "Snapshot keys sent to the target.",
              MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.rdb_keys_kept); }},
      {Family("reshard_target_keys_dropped_total",
              "Snapshot keys not for this target (filtered out).", MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.rdb_keys_dropped); }},
      {Family("reshard_target_commands_kept_total",
              "Stream commands sent to the target, whole or as a split part.", MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.commands_kept); }},
      {Family("reshard_target_commands_dropped_total",
              "Stream commands with no key for this target.", MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.commands_dropped); }},
      {Family("reshard_target_commands_split_total",
              "Multi-key stream commands of which this target received a part.",
              MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.commands_split); }},
      {Family("reshard_target_keys_materialized_total",
              "Keys copied from the source to the target (RESTORE, or DEL when gone) for "
              "stream writes that could not be routed exactly.",
              MetricType::Counter),
       [](const engine::TargetStatus& t) { return double(t.keys_materialized); }},
      {Family("reshard_target_lag_bytes",
              "Bytes of the target's stream sent but not yet acknowledged by it.",
              MetricType::Gauge),
       [](const engine::TargetStatus& t) { return double(t.lag_bytes); }},
      {Family("reshard_target_lag_seconds",
              "Age of the oldest stream byte the target has not acknowledged.", MetricType::Gauge),
       [](const engine::TargetStatus& t) { return t.lag_seconds; }},
      {Family("reshard_target_connected_replicas",
              "Replicas currently replicating from the target's listener.", MetricType::Gauge),
       [](const engine::TargetStatus& t) { return double(t.connected_replicas); }},
  };

  for (const JobView& job : jobs) {
    const engine::JobStatus& s = job.status;
    for (engine::JobState candidate : kAllStates) {
      Add(state, {{"job", job.id}, {"state", std::string(engine::JobStateName(candidate))}},
          candidate == s.state ? 1 : 0);
    }
    Add(bytes_received, {{"job", job.id}}, double(s.bytes_received));
    Add(rdb_bytes, {{"job", job.id}}, double(s.rdb_bytes_read));
    Add(rdb_keys, {{"job", job.id}}, double(s.rdb_keys_read));
    Add(upstream_connected, {{"job", job.id}}, s.upstream_connected ? 1 : 0);
    Add(upstream_reconnects, {{"job", job.id}}, double(s.upstream_reconnects));
    for (const engine::TargetStatus& target : s.targets) {
      for (TargetFamily& family : targets) {
        Add(family.family, {{"job", job.id}, {"target", target.name}}, family.value(target));
      }
    }
  }

  std::vector<MetricFamily> families;
  for (MetricFamily* family : {&state, &bytes_received, &rdb_bytes, &rdb_keys, &upstream_connected,
                               &upstream_reconnects}) {
    families.push_back(std::move(*family));
  }
  for (TargetFamily& family : targets) families.push_back(std::move(family.family));
  return families;
}

std::vector<MetricFamily> JobMetricsCollector::Collect() const {
  return JobMetricFamilies(manager_->List());
}

absl::StatusOr<std::unique_ptr<MetricsExporter>> MetricsExporter::Start(const std::string& listen,
                                                                        const JobManager* manager) {
  std::unique_ptr<MetricsExporter> exporter(new MetricsExporter());
  exporter->collector_ = std::make_shared<JobMetricsCollector>(manager);
  // civetweb wants "host:port"; prometheus-cpp's default 2 threads and 30 s
  // timeout let three idle connections block every scrape (BUILD-NOTES).
  std::vector<std::string> options = {"listening_ports",    listen, "num_threads", "4",
                                      "request_timeout_ms", "5000"};
  try {
    exporter->exposer_ = std::make_unique<prometheus::Exposer>(std::move(options));
  } catch (const std::exception& e) {
    // prometheus-cpp reports a failed bind by throwing; keep it inside.
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", listen, ": ", e.what()));
  }
  exporter->exposer_->RegisterCollectable(exporter->collector_);
  std::vector<int> ports = exporter->exposer_->GetListeningPorts();
  exporter->port_ = ports.empty() ? 0 : ports.front();
  return exporter;
}

MetricsExporter::~MetricsExporter() = default;

}  // namespace reshard::server
