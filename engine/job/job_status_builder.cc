#include "engine/job/job_status_builder.h"

#include "absl/strings/str_cat.h"
#include "engine/job/job_health.h"

namespace reshard::engine {
namespace {

std::vector<ClusterNodeStatus> ClusterNodesOf(const ClusterApplier& applier) {
  const ClusterWriter& writer = applier.writer();
  const std::vector<HostPort>& masters = writer.slot_map().masters();
  const std::vector<ClusterWriter::NodeCounters>& counters = writer.node_counters();
  std::vector<ClusterNodeStatus> nodes;
  for (size_t n = 0; n < masters.size(); ++n) {
    ClusterNodeStatus node;
    node.address = masters[n].ToString();
    int slots = 0;
    node.slot_ranges = writer.slot_map().SlotsOf(static_cast<int>(n), &slots);
    node.slots = static_cast<uint32_t>(slots);
    if (n < counters.size()) {
      const ClusterWriter::NodeCounters& c = counters[n];
      node.commands = c.commands;
      node.keys_restored = c.keys_restored;
      node.bytes_sent = c.bytes_sent;
      node.acked_offset = c.acked_offset;
      node.moved = c.moved;
      node.ask = c.ask;
      node.retries = c.retries;
      node.last_error = c.last_error;
    }
    if (applier.read_offset() > node.acked_offset && node.acked_offset > 0) {
      node.lag_bytes = applier.read_offset() - node.acked_offset;
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

TargetStatus TargetStatusOf(const JobContext& job, size_t i) {
  TargetStatus t;
  t.name = job.spec.targets[i].name;
  if (i < job.targets.size()) {
    TargetLinkStatus link = job.targets[i]->Status();
    t.attached = link.attached;
    t.connected_replicas = link.connected_replicas;
    t.bytes_sent = link.bytes_sent;
    t.offset = link.offset;
    t.acked_offset = link.acked_offset;
    t.lag_bytes = link.lag_bytes;
    t.lag_seconds = link.lag_seconds;
    t.state = TargetStateOf(link);
    if (t.state != TargetState::kStreaming) t.state_reason = link.reason;
    t.spool_bytes = link.spool_bytes;
    t.spool_disk_bytes = link.spool_disk_bytes;
    t.resyncs = link.resyncs;
  }
  if (i < job.cluster_appliers.size() && job.cluster_appliers[i] != nullptr) {
    const ClusterWriter& writer = job.cluster_appliers[i]->writer();
    t.cluster_failovers = writer.failovers();
    t.cluster_last_failover = writer.last_failover();
    // The applier stays attached, but a master's slots get nothing until a
    // replica takes them over.
    if (!writer.failing_over().empty() &&
        (t.state == TargetState::kStreaming || t.state == TargetState::kSpooling)) {
      t.state = TargetState::kDisconnected;
      t.state_reason =
          absl::StrCat("cluster ", writer.failing_over(), " ",
                       absl::ToInt64Seconds(absl::Now() - writer.failing_over_since()),
                       " s ago: its slots' writes wait until a replica takes them over");
    }
  }
  if (i < job.source_acked.size()) t.source_acked_offset = job.source_acked[i];
  if (job.splitter != nullptr) {
    t.rdb_keys_kept = job.splitter->keys_kept(i);
    t.rdb_keys_dropped = job.splitter->keys_dropped(i);
  }
  if (job.router != nullptr) {
    const auto& counters = job.router->counters(i);
    t.commands_kept = counters.commands_kept;
    t.commands_dropped = counters.commands_dropped;
    t.commands_split = counters.commands_split;
    t.keys_materialized = counters.keys_materialized;
  }
  if (i < job.cluster_appliers.size() && job.cluster_appliers[i] != nullptr) {
    t.cluster_nodes = ClusterNodesOf(*job.cluster_appliers[i]);
  }
  return t;
}

}  // namespace

JobStatus BuildJobStatus(const JobContext& job, uint64_t previous_rdb_bytes_read,
                         int64_t created_unix_ms) {
  JobStatus status;
  status.state = job.state;
  status.detail = job.detail;
  status.created_unix_ms = created_unix_ms;
  status.updated_unix_ms = absl::ToUnixMillis(absl::Now());
  status.upstream_reconnects = job.source.reconnects;
  status.source_address = job.SourceAddress();
  status.source_failovers = job.source.failover_history.failovers;
  status.source_failovers_partial = PartialFailovers(job.source.failover_history);
  status.source_failovers_full = FullFailovers(job.source.failover_history);
  status.source_offset = job.source.routed_offset;
  status.upstream_acked_offset = job.upstream_acked;
  if (job.monitor != nullptr && !job.source.replid.empty()) {
    status.source_master_offset = job.monitor->master_offset();
    if (status.source_master_offset > status.source_offset) {
      status.source_lag_bytes = status.source_master_offset - status.source_offset;
    }
    status.source_lag_seconds = job.monitor->SecondsBehind(status.source_offset);
  }
  if (job.monitor != nullptr) status.rdb_keys_total = job.monitor->key_total().value_or(0);
  if (job.monitor != nullptr) {
    if (std::optional<SourceMonitor::Role> role = job.monitor->role(); role.has_value()) {
      status.source_role = role->role;
      status.source_master_address = role->master_address;
      status.source_master_link_status = role->master_link_status;
    }
  }
  if (job.upstream != nullptr && job.upstream->connected()) {
    status.upstream_connected = !job.finished;
    status.bytes_received = job.upstream->source().bytes_received();
    if (job.state == JobState::kSyncing) {
      status.rdb_bytes_read = job.upstream->source().consumed() - job.snapshot.rdb_start;
    }
  }
  if (status.rdb_bytes_read == 0) {
    status.rdb_bytes_read =
        job.snapshot.rdb_bytes > 0 ? job.snapshot.rdb_bytes : previous_rdb_bytes_read;
  }
  status.rdb_bytes_total = job.snapshot.rdb_total;
  status.cutover = job.cutover;
  status.restore_detail = job.restore_detail;
  if (!job.failover_history_problem.empty()) {
    status.restore_detail =
        status.restore_detail.empty()
            ? job.failover_history_problem
            : absl::StrCat(status.restore_detail, "; ", job.failover_history_problem);
  }
  status.durable_state_error = job.durable_error;
  for (size_t i = 0; i < job.targets.size() && status.durable_state_error.empty(); ++i) {
    if (const std::string& error = job.targets[i]->durable().error(); !error.empty()) {
      status.durable_state_error =
          absl::StrCat("target '", job.targets[i]->name(), "' stream log: ", error,
                       ": a restart of reshardd will give it a full sync");
    }
  }
  status.source_backlog_bytes = job.backlog_advice.backlog_bytes;
  status.source_backlog_seconds = job.backlog_advice.covers_seconds;
  status.source_backlog_advice = job.backlog_advice.text;
  if (job.splitter != nullptr) status.rdb_keys_read = job.splitter->keys_read();
  for (size_t i = 0; i < job.spec.targets.size(); ++i) {
    status.targets.push_back(TargetStatusOf(job, i));
  }
  return status;
}

}  // namespace reshard::engine
