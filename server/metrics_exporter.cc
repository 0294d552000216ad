#include "server/metrics_exporter.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"

namespace reshard::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr engine::JobState kAllStates[] = {
    engine::JobState::kPending,   engine::JobState::kConnecting, engine::JobState::kSyncing,
    engine::JobState::kStreaming, engine::JobState::kDegraded,   engine::JobState::kPaused,
    engine::JobState::kFailed,    engine::JobState::kCancelled,  engine::JobState::kCutover,
    engine::JobState::kDone,
};

constexpr engine::CutoverState kAllCutoverStates[] = {
    engine::CutoverState::kRunning,
    engine::CutoverState::kDone,
    engine::CutoverState::kRolledBack,
};

constexpr engine::TargetState kAllTargetStates[] = {
    engine::TargetState::kWaiting,  engine::TargetState::kSnapshot,
    engine::TargetState::kLoading,  engine::TargetState::kStreaming,
    engine::TargetState::kSpooling, engine::TargetState::kResyncing,
    engine::TargetState::kCutOff,   engine::TargetState::kDisconnected,
    engine::TargetState::kPaused,
};

// The job id's label. Not `job`: Prometheus gives every scrape target a `job`
// label of its own, which would rename ours to `exported_job`.
constexpr char kJobLabel[] = "job_id";

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

// The verification and cutover families: only jobs that have been verified
// (cut over) have samples; a family without samples is left out.
std::vector<MetricFamily> FinishMetricFamilies(const std::vector<JobView>& jobs) {
  MetricFamily running = Family("reshard_verify_running", "1 while a verification of the job runs.",
                                MetricType::Gauge);
  MetricFamily progress =
      Family("reshard_verify_progress_ratio",
             "Keys scanned / keys to scan of the running or last verification (1 when done).",
             MetricType::Gauge);
  MetricFamily checked =
      Family("reshard_verify_keys_checked",
             "Source keys compared by the running or last verification.", MetricType::Gauge);
  MetricFamily rate = Family("reshard_verify_keys_per_second",
                             "Source keys compared per second by the running or last verification.",
                             MetricType::Gauge);
  MetricFamily problems = Family(
      "reshard_verify_problems",
      "Keys found wrong by the running or last verification, by kind: missing on a target, stray "
      "(on a target whose filter does not select it, or not on the source), different (value or "
      "TTL).",
      MetricType::Gauge);
  MetricFamily unsettled = Family(
      "reshard_verify_unsettled",
      "Keys the running or last verification could not settle (the source kept changing them, or "
      "a target never applied the offset): not verified.",
      MetricType::Gauge);
  MetricFamily started =
      Family("reshard_verify_start_time_seconds",
             "When the running or last verification started (unix seconds).", MetricType::Gauge);
  MetricFamily cutover_state = Family(
      "reshard_cutover_state",
      "1 for the state of the running or last cutover (RUNNING, DONE, ROLLED_BACK), 0 for the "
      "others.",
      MetricType::Gauge);
  MetricFamily write_pause = Family(
      "reshard_cutover_write_pause_seconds",
      "The source's write pause of the last cutover (done or rolled back).", MetricType::Gauge);
  for (const JobView& job : jobs) {
    if (job.last_verification.has_value()) {
      const engine::VerifyReport& v = *job.last_verification;
      const ClientMetric::Label id{kJobLabel, job.id};
      Add(running, {id}, v.state == engine::VerifyState::kRunning ? 1 : 0);
      Add(progress, {id}, v.progress());
      Add(checked, {id}, double(v.keys_checked));
      Add(rate, {id}, v.keys_per_second());
      Add(problems, {id, {"kind", "missing"}}, double(v.missing));
      Add(problems, {id, {"kind", "stray"}}, double(v.stray));
      Add(problems, {id, {"kind", "different"}}, double(v.different));
      Add(unsettled, {id}, double(v.unsettled));
      Add(started, {id}, absl::ToDoubleSeconds(v.started - absl::UnixEpoch()));
    }
    if (job.status.cutover.has_value()) {
      const engine::CutoverReport& c = *job.status.cutover;
      for (engine::CutoverState candidate : kAllCutoverStates) {
        Add(cutover_state,
            {{kJobLabel, job.id}, {"state", std::string(engine::CutoverStateName(candidate))}},
            candidate == c.state ? 1 : 0);
      }
      if (c.state != engine::CutoverState::kRunning) {
        Add(write_pause, {{kJobLabel, job.id}}, c.write_pause_ms / 1000.0);
      }
    }
  }
  std::vector<MetricFamily> families;
  for (MetricFamily* family : {&running, &progress, &checked, &rate, &problems, &unsettled,
                               &started, &cutover_state, &write_pause}) {
    if (!family->metric.empty()) families.push_back(std::move(*family));
  }
  return families;
}

// A per-node family of cluster targets and how to read its value.
struct ClusterNodeFamily {
  MetricFamily family;
  double (*value)(const engine::ClusterNodeStatus&);
};

// The families of cluster targets' masters (labels job_id, target, node):
// only jobs with a cluster target have samples; a family without samples is
// left out.
std::vector<MetricFamily> ClusterNodeMetricFamilies(const std::vector<JobView>& jobs) {
  std::vector<ClusterNodeFamily> nodes = {
      {Family("reshard_cluster_node_slots",
              "Hash slots the cluster target's master owns in reshardd's slot map.",
              MetricType::Gauge),
       [](const engine::ClusterNodeStatus& n) { return double(n.slots); }},
      {Family("reshard_cluster_node_commands_total",
              "Commands the cluster target's master acknowledged (RESTORE, MULTI, EXEC too).",
              MetricType::Counter),
       [](const engine::ClusterNodeStatus& n) { return double(n.commands); }},
      {Family("reshard_cluster_node_keys_restored_total",
              "Snapshot keys (RESTORE) the cluster target's master acknowledged.",
              MetricType::Counter),
       [](const engine::ClusterNodeStatus& n) { return double(n.keys_restored); }},
      {Family("reshard_cluster_node_bytes_sent_total",
              "RESP bytes written to the cluster target's master.", MetricType::Counter),
       [](const engine::ClusterNodeStatus& n) { return double(n.bytes_sent); }},
      {Family("reshard_cluster_node_acked_offset",
              "The target stream offset through which the master acknowledged everything it was "
              "sent.",
              MetricType::Gauge),
       [](const engine::ClusterNodeStatus& n) { return double(n.acked_offset); }},
      {Family("reshard_cluster_node_lag_bytes",
              "Bytes of the target's stream read by reshardd's applier and not yet acknowledged "
              "by the master.",
              MetricType::Gauge),
       [](const engine::ClusterNodeStatus& n) { return double(n.lag_bytes); }},
      {Family("reshard_cluster_node_error",
              "1 when the master's last command or connection failed (the status names it).",
              MetricType::Gauge),
       [](const engine::ClusterNodeStatus& n) { return n.last_error.empty() ? 0.0 : 1.0; }},
  };
  MetricFamily redirects = Family(
      "reshard_cluster_node_redirects_total",
      "Replies of the cluster target's master that sent a command elsewhere or later, by kind: "
      "moved, ask (followed), retry (TRYAGAIN, CLUSTERDOWN, ASK inside a MULTI: sent again).",
      MetricType::Counter);
  for (const JobView& job : jobs) {
    for (const engine::TargetStatus& target : job.status.targets) {
      for (const engine::ClusterNodeStatus& node : target.cluster_nodes) {
        std::vector<ClientMetric::Label> labels = {
            {kJobLabel, job.id}, {"target", target.name}, {"node", node.address}};
        for (ClusterNodeFamily& family : nodes) Add(family.family, labels, family.value(node));
        for (auto [kind, count] : {std::pair<const char*, uint64_t>{"moved", node.moved},
                                   {"ask", node.ask},
                                   {"retry", node.retries}}) {
          std::vector<ClientMetric::Label> with_kind = labels;
          with_kind.push_back({"kind", kind});
          Add(redirects, std::move(with_kind), double(count));
        }
      }
    }
  }
  std::vector<MetricFamily> families;
  for (ClusterNodeFamily& family : nodes) {
    if (!family.family.metric.empty()) families.push_back(std::move(family.family));
  }
  if (!redirects.metric.empty()) families.push_back(std::move(redirects));
  return families;
}

// A per-job family and how to read its value from a JobStatus.
struct JobFamily {
  MetricFamily family;
  double (*value)(const engine::JobStatus&);
};

// A per-target family and how to read its value from a TargetStatus.
struct TargetFamily {
  MetricFamily family;
  double (*value)(const engine::TargetStatus&);
};

std::vector<JobFamily> JobFamilies() {
  return {
      {Family("reshard_bytes_received_total",
              "Bytes received from the source (RDB snapshot and command stream).",
              MetricType::Counter),
       [](const engine::JobStatus& s) { return double(s.bytes_received); }},
      {Family("reshard_rdb_bytes_read_total", "Bytes of the source's RDB snapshot read.",
              MetricType::Counter),
       [](const engine::JobStatus& s) { return double(s.rdb_bytes_read); }},
      {Family("reshard_rdb_keys_read_total", "Keys of the source's RDB snapshot read.",
              MetricType::Counter),
       [](const engine::JobStatus& s) { return double(s.rdb_keys_read); }},
      // Not "_total": promtool's lint keeps that suffix for counters.
      {Family("reshard_rdb_keys_expected",
              "The source's key count at job start (INFO keyspace); 0 when unknown.",
              MetricType::Gauge),
       [](const engine::JobStatus& s) { return double(s.rdb_keys_total); }},
      {Family("reshard_upstream_connected",
              "1 while the replication link to the source is connected, else 0.",
              MetricType::Gauge),
       [](const engine::JobStatus& s) { return s.upstream_connected ? 1.0 : 0.0; }},
      {Family("reshard_upstream_reconnects_total",
              "Times the replication link to the source was re-established.", MetricType::Counter),
       [](const engine::JobStatus& s) { return double(s.upstream_reconnects); }},
      {Family("reshard_source_master_offset",
              "The source's own master_repl_offset (polled); 0 when not known yet.",
              MetricType::Gauge),
       [](const engine::JobStatus& s) { return double(s.source_master_offset); }},
      {Family("reshard_source_lag_bytes",
              "Bytes of the source's replication stream the job has not applied yet.",
              MetricType::Gauge),
       [](const engine::JobStatus& s) { return double(s.source_lag_bytes); }},
      {Family("reshard_source_lag_seconds",
              "How long ago the source passed the offset the job has applied.", MetricType::Gauge),
       [](const engine::JobStatus& s) { return s.source_lag_seconds; }},
      {Family("reshard_upstream_acked_offset",
              "The source offset the job acknowledges upstream (REPLCONF ACK).", MetricType::Gauge),
       [](const engine::JobStatus& s) { return double(s.upstream_acked_offset); }},
  };
}

}  // namespace

std::vector<MetricFamily> JobMetricFamilies(const std::vector<JobView>& jobs) {
  MetricFamily state = Family(
      "reshard_job_state", "Current state of the job: 1 for the state it is in, 0 for the others.",
      MetricType::Gauge);
  MetricFamily target_state =
      Family("reshard_target_state",
             "Current state of the target: 1 for the state it is in, 0 for the others.",
             MetricType::Gauge);
  std::vector<JobFamily> job_families = JobFamilies();
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
      {Family("reshard_target_spool_bytes",
              "Stream bytes waiting for the target (memory + disk spool).", MetricType::Gauge),
       [](const engine::TargetStatus& t) { return double(t.spool_bytes); }},
      {Family("reshard_target_spool_disk_bytes",
              "Of reshard_target_spool_bytes, the bytes in the target's spool file.",
              MetricType::Gauge),
       [](const engine::TargetStatus& t) { return double(t.spool_disk_bytes); }},
      {Family("reshard_target_source_acked_offset",
              "The source offset the target has confirmed applying; 0 before its snapshot "
              "loaded.",
              MetricType::Gauge),
       [](const engine::TargetStatus& t) { return double(t.source_acked_offset); }},
      {Family("reshard_target_resyncs",
              "Full resyncs of the target after the job's snapshot (only increases).",
              MetricType::Gauge),
       [](const engine::TargetStatus& t) { return double(t.resyncs); }},
  };

  MetricFamily failovers = Family(
      "reshard_source_failovers_total",
      "Failovers of the source the job followed: kind partial (continued with PSYNC on the new "
      "master) or full (the new master did not share the history: every target resynced).",
      MetricType::Counter);
  MetricFamily source_info =
      Family("reshard_source_info", "1, labelled with the address the job reads its source from.",
             MetricType::Gauge);
  for (const JobView& job : jobs) {
    const engine::JobStatus& s = job.status;
    // The job's totals (kept across restarts), not its last records.
    Add(failovers, {{kJobLabel, job.id}, {"kind", "partial"}}, double(s.source_failovers_partial));
    Add(failovers, {{kJobLabel, job.id}, {"kind", "full"}}, double(s.source_failovers_full));
    Add(source_info,
        {{kJobLabel, job.id},
         {"address", s.source_address.empty() ? job.spec.source.address : s.source_address}},
        1);
    for (engine::JobState candidate : kAllStates) {
      Add(state, {{kJobLabel, job.id}, {"state", std::string(engine::JobStateName(candidate))}},
          candidate == s.state ? 1 : 0);
    }
    for (JobFamily& family : job_families) {
      Add(family.family, {{kJobLabel, job.id}}, family.value(s));
    }
    for (const engine::TargetStatus& target : s.targets) {
      for (engine::TargetState candidate : kAllTargetStates) {
        Add(target_state,
            {{kJobLabel, job.id},
             {"target", target.name},
             {"state", std::string(engine::TargetStateName(candidate))}},
            candidate == target.state ? 1 : 0);
      }
      for (TargetFamily& family : targets) {
        Add(family.family, {{kJobLabel, job.id}, {"target", target.name}}, family.value(target));
      }
    }
  }

  std::vector<MetricFamily> families;
  families.push_back(std::move(state));
  for (JobFamily& family : job_families) families.push_back(std::move(family.family));
  families.push_back(std::move(failovers));
  families.push_back(std::move(source_info));
  families.push_back(std::move(target_state));
  for (TargetFamily& family : targets) families.push_back(std::move(family.family));
  for (MetricFamily& family : ClusterNodeMetricFamilies(jobs)) {
    families.push_back(std::move(family));
  }
  for (MetricFamily& family : FinishMetricFamilies(jobs)) families.push_back(std::move(family));
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
