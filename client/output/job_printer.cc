#include "client/output/job_printer.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/output/byte_format.h"
#include "client/output/json_writer.h"
#include "client/output/progress_bar.h"
#include "client/output/table_printer.h"

namespace reshard::client {
namespace {

std::string FilterText(const v1::Filter& filter) {
  switch (filter.kind_case()) {
    case v1::Filter::kRegex:
      return absl::StrCat("regex:", filter.regex());
    case v1::Filter::kPrefix:
      return absl::StrCat("prefix:", filter.prefix());
    case v1::Filter::kGlob:
      return absl::StrCat("glob:", filter.glob());
    case v1::Filter::kSlots:
      return absl::StrCat("slots:", filter.slots());
    case v1::Filter::KIND_NOT_SET:
      break;
  }
  return "-";
}

std::string TargetStateName(const v1::TargetStatus& target) {
  return v1::TargetStatus::State_Name(target.state());
}

// "8.8 KiB", or "8.8 KiB (4.0 KiB on disk)" when part of it is on disk.
std::string SpoolText(const v1::TargetStatus& target) {
  std::string text = HumanBytes(target.spool_bytes());
  if (target.spool_disk_bytes() != 0) {
    absl::StrAppend(&text, " (", HumanBytes(target.spool_disk_bytes()), " on disk)");
  }
  return text;
}

// The job's lag behind its source, or why it is not known.
std::string SourceLagText(const v1::JobStatus& status) {
  if (status.source_master_offset() == 0) return "unknown (the source's offset is not known yet)";
  return absl::StrFormat("%s, %.1f s behind the source (master offset %d, applied %d)",
                         HumanBytes(status.source_lag_bytes()), status.source_lag_seconds(),
                         status.source_master_offset(), status.source_offset());
}

// "1.5 MiB/s".
std::string BytesRate(double per_second) {
  return absl::StrCat(HumanBytes(per_second > 0 ? static_cast<uint64_t>(per_second) : 0), "/s");
}

// A cluster target's masters: one row each, then each node's last error.
void PrintClusterNodes(const v1::TargetStatus& target, bool wide, std::ostream& out) {
  out << "\n  cluster target " << target.name() << ":\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NODE", "SLOTS", "COMMANDS", "KEYS RESTORED", "SENT", "ACKED", "LAG", "MOVED",
                  "ASK", "RETRIES"});
  if (wide) rows[0].push_back("SLOT RANGES");
  std::vector<std::string> errors;
  for (const v1::ClusterNodeStatus& node : target.cluster_nodes()) {
    rows.push_back({node.address(), absl::StrCat(node.slots()), absl::StrCat(node.commands()),
                    absl::StrCat(node.keys_restored()), HumanBytes(node.bytes_sent()),
                    absl::StrCat(node.acked_offset()), HumanBytes(node.lag_bytes()),
                    absl::StrCat(node.moved()), absl::StrCat(node.ask()),
                    absl::StrCat(node.retries())});
    if (wide) rows.back().push_back(node.slot_ranges().empty() ? "-" : node.slot_ranges());
    if (!node.last_error().empty()) {
      errors.push_back(absl::StrCat("node ", node.address(), ": last error: ", node.last_error()));
    }
  }
  std::ostringstream table;
  PrintTable(rows, table);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);) out << "    " << line << "\n";
  for (const std::string& error : errors) out << "    " << error << "\n";
}

// Once the job streams, its snapshot is done.
bool SnapshotDone(const v1::JobStatus& status) {
  return status.state() == v1::JobStatus::STREAMING || status.state() == v1::JobStatus::DEGRADED ||
         status.state() == v1::JobStatus::PAUSED;
}

// The RDB progress (see PrintJob).
std::string RdbText(const v1::JobStatus& status, const WatchRates& rates) {
  const v1::RdbProgress& rdb = status.rdb();
  if (SnapshotDone(status)) {
    std::string text =
        absl::StrCat("done, ", rdb.keys_read(), " keys, ", HumanBytes(rdb.bytes_read()));
    if (rdb.keys_total() != 0) {
      absl::StrAppend(&text, " (the source had ", rdb.keys_total(), " keys at the start)");
    }
    return text;
  }
  if (rdb.bytes_total() != 0) {
    std::string text = absl::StrCat(ProgressBar(rdb.bytes_read(), rdb.bytes_total(), 30), " ",
                                    HumanBytes(rdb.bytes_read()), " / ",
                                    HumanBytes(rdb.bytes_total()), ", ", rdb.keys_read(), " keys");
    if (rates.rdb_bytes_per_second) {
      absl::StrAppend(&text, ", ", BytesRate(*rates.rdb_bytes_per_second), ", ETA ",
                      EtaText(rdb.bytes_read(), rdb.bytes_total(), *rates.rdb_bytes_per_second));
    }
    return text;
  }
  if (rdb.keys_total() != 0) {
    return absl::StrCat(
        KeysProgress(rdb.keys_read(), rdb.keys_total(), rates.rdb_keys_per_second, 30), ", ",
        HumanBytes(rdb.bytes_read()), " read");
  }
  // Neither the size nor the source's key count: a count, no bar.
  std::string text = absl::StrCat(rdb.keys_read(), " keys, ", HumanBytes(rdb.bytes_read()),
                                  " read (size unknown)");
  if (rates.rdb_keys_per_second) {
    absl::StrAppendFormat(&text, ", %.1f keys/s", *rates.rdb_keys_per_second);
  }
  return text;
}

void PrintHead(const v1::Job& job, std::ostream& out) {
  const v1::JobStatus& status = job.status();
  out << "job " << job.id() << ": " << StateName(status) << "\n";
  if (!status.error().code().empty()) {
    out << "  error:    " << status.error().code() << ": " << status.error().message() << "\n";
  }
  if (!status.detail().empty()) out << "  detail:   " << status.detail() << "\n";
}

}  // namespace

std::string StateName(const v1::JobStatus& status) {
  return v1::JobStatus::State_Name(status.state());
}

void PrintJob(const v1::Job& job, bool wide, std::ostream& out) {
  const v1::JobStatus& status = job.status();
  PrintHead(job, out);
  const std::string& source_address =
      status.source_address().empty() ? job.spec().source().address() : status.source_address();
  out << "  source:   " << source_address << " ("
      << (status.upstream_connected() ? "connected" : "not connected") << ", offset "
      << status.source_offset() << ", " << status.upstream_reconnects() << " reconnects, "
      << HumanBytes(status.bytes_received()) << " received)\n";
  if (status.source_role() == "replica") {
    out << "  role:     replica of " << status.source_master_address() << " (master link "
        << status.source_master_link_status() << ")\n";
  }
  // The last few failovers (all of them with -o json).
  const int failovers = status.source_failovers_size();
  for (int i = std::max(0, failovers - 3); i < failovers; ++i) {
    const v1::SourceFailover& f = status.source_failovers(i);
    out << "  failover: " << f.from() << " -> " << f.to() << " "
        << v1::SourceFailover::Kind_Name(f.kind());
    if (!f.detail().empty()) out << ": " << f.detail();
    out << "\n";
  }
  out << "  lag:      " << SourceLagText(status) << "\n";
  out << "  upstream: acked offset " << status.upstream_acked_offset() << "\n";
  out << "  rdb:      " << RdbText(status, WatchRates()) << "\n";
  if (job.has_last_cutover()) {
    const v1::CutoverReport& c = job.last_cutover();
    out << "  cutover:  " << v1::CutoverReport::State_Name(c.state());
    if (c.state() == v1::CutoverReport::ROLLED_BACK) {
      out << ": " << c.error();
    } else if (c.state() == v1::CutoverReport::DONE) {
      out << absl::StrFormat(": write pause %.1f ms, final offset %d%s", c.write_pause_ms(),
                             c.final_offset(),
                             c.source_left_paused() ? ", the source left paused" : "");
    } else if (c.steps_size() > 0) {
      out << ": " << c.steps(c.steps_size() - 1);
    }
    out << "\n";
  }
  if (job.has_last_verification()) {
    const v1::VerifyReport& v = job.last_verification();
    out << "  verified: " << v1::VerifyReport::State_Name(v.state()) << ", " << v.keys_checked()
        << " keys, missing " << v.missing() << ", stray " << v.stray() << ", different "
        << v.different() << ", unsettled " << v.unsettled();
    if (v.state() == v1::VerifyReport::RUNNING) {
      out << absl::StrFormat(" (%.0f%%, ETA %.0f s)",
                             100.0 * v.keys_scanned() / std::max<uint64_t>(1, v.keys_total()),
                             v.eta_seconds());
    } else if (v.state() == v1::VerifyReport::FAILED) {
      out << " (" << v.error() << ")";
    }
    out << "\n";
  }

  std::vector<std::vector<std::string>> rows;
  if (wide) {
    rows.push_back({"TARGET", "FILTER", "LISTEN", "STATE", "REPLICAS", "KEYS KEPT", "KEYS DROPPED",
                    "CMDS KEPT", "CMDS DROPPED", "SPLIT", "MATERIALIZED", "SENT", "LAG", "LAG S",
                    "SPOOL", "SOURCE ACKED", "RESYNCS"});
  } else {
    rows.push_back({"TARGET", "STATE", "REPLICAS", "KEYS KEPT", "SENT", "LAG", "SPOOL", "RESYNCS"});
  }
  std::vector<std::string> reasons;
  for (int i = 0; i < job.spec().targets_size(); ++i) {
    const v1::TargetSpec& spec = job.spec().targets(i);
    v1::TargetStatus target;
    for (const v1::TargetStatus& t : status.targets()) {
      if (t.name() == spec.name()) target = t;
    }
    if (wide) {
      // A cluster target has no listen address: its nodes instead.
      std::string listen =
          spec.has_cluster() ? absl::StrCat("cluster:", absl::StrJoin(spec.cluster().nodes(), ","))
                             : spec.listen();
      rows.push_back({spec.name(), FilterText(spec.filter()), listen, TargetStateName(target),
                      absl::StrCat(target.connected_replicas()),
                      absl::StrCat(target.rdb_keys_kept()), absl::StrCat(target.rdb_keys_dropped()),
                      absl::StrCat(target.commands_kept()), absl::StrCat(target.commands_dropped()),
                      absl::StrCat(target.commands_split()),
                      absl::StrCat(target.keys_materialized()), HumanBytes(target.bytes_sent()),
                      HumanBytes(target.lag_bytes()), absl::StrFormat("%.1f", target.lag_seconds()),
                      SpoolText(target), absl::StrCat(target.source_acked_offset()),
                      absl::StrCat(target.resyncs())});
    } else {
      rows.push_back(
          {spec.name(), TargetStateName(target), absl::StrCat(target.connected_replicas()),
           absl::StrCat(target.rdb_keys_kept()), HumanBytes(target.bytes_sent()),
           HumanBytes(target.lag_bytes()), SpoolText(target), absl::StrCat(target.resyncs())});
    }
    if (target.state() != v1::TargetStatus::STREAMING && !target.state_reason().empty()) {
      reasons.push_back(absl::StrCat("target ", spec.name(), ": ", TargetStateName(target), ": ",
                                     target.state_reason()));
    }
  }
  std::ostringstream table;
  PrintTable(rows, table);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
  for (const std::string& reason : reasons) out << "  " << reason << "\n";
  for (const v1::TargetStatus& target : status.targets()) {
    if (target.cluster_nodes_size() > 0) PrintClusterNodes(target, wide, out);
  }
}

void PrintJobCompact(const v1::Job& job, const WatchRates& rates, std::ostream& out) {
  const v1::JobStatus& status = job.status();
  PrintHead(job, out);
  out << "  source:   " << (status.upstream_connected() ? "connected" : "not connected");
  if (rates.received_bytes_per_second) {
    out << ", reading " << BytesRate(*rates.received_bytes_per_second);
  }
  if (status.source_master_offset() == 0) {
    out << ", lag ?, offset " << status.source_offset();
  } else {
    out << absl::StrFormat(", lag %s / %.1f s, offset %d of %d",
                           HumanBytes(status.source_lag_bytes()), status.source_lag_seconds(),
                           status.source_offset(), status.source_master_offset());
  }
  out << ", upstream acked " << status.upstream_acked_offset() << "\n";
  out << "  rdb:      " << RdbText(status, rates) << "\n";
  for (const v1::TargetStatus& target : status.targets()) {
    out << "  " << target.name() << ": " << TargetStateName(target);
    if (target.state() != v1::TargetStatus::STREAMING && !target.state_reason().empty()) {
      out << " (" << target.state_reason() << ")";
    }
    out << ", spool " << SpoolText(target) << ", source acked " << target.source_acked_offset()
        << ", " << target.resyncs() << " resyncs\n";
  }
}

void PrintJobAs(const v1::Job& job, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) {
    out << MessageToJson(job, /*multi_line=*/true) << "\n";
  } else {
    PrintJob(job, format == OutputFormat::kWide, out);
  }
}

void PrintJobTable(const v1::ListJobsResponse& jobs, bool wide, std::ostream& out) {
  std::vector<std::vector<std::string>> rows;
  if (wide) {
    rows.push_back(
        {"ID", "STATE", "SOURCE", "TARGETS", "UPSTREAM", "SOURCE LAG", "TARGET STATES", "DETAIL"});
  } else {
    rows.push_back({"ID", "STATE", "SOURCE", "TARGETS", "DETAIL"});
  }
  for (const v1::Job& job : jobs.jobs()) {
    const v1::JobStatus& status = job.status();
    std::string detail = status.detail();
    if (!status.error().code().empty()) {
      detail = absl::StrCat(status.error().code(), ": ", status.error().message());
    }
    if (!wide) {
      rows.push_back({job.id(), StateName(status), job.spec().source().address(),
                      absl::StrCat(job.spec().targets_size()), detail});
      continue;
    }
    std::vector<std::string> states;
    for (const v1::TargetStatus& target : status.targets()) {
      states.push_back(absl::StrCat(target.name(), "=", TargetStateName(target)));
    }
    rows.push_back({job.id(), StateName(status), job.spec().source().address(),
                    absl::StrCat(job.spec().targets_size()),
                    status.upstream_connected() ? "connected" : "not connected",
                    status.source_master_offset() == 0
                        ? "?"
                        : absl::StrFormat("%s / %.1f s", HumanBytes(status.source_lag_bytes()),
                                          status.source_lag_seconds()),
                    states.empty() ? "-" : absl::StrJoin(states, ","), detail});
  }
  PrintTable(rows, out);
}

}  // namespace reshard::client
