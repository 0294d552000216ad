#include "client/output/job_printer.h"

#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

}  // namespace

std::string StateName(const v1::JobStatus& status) {
  return v1::JobStatus::State_Name(status.state());
}

void PrintJob(const v1::Job& job, std::ostream& out) {
  const v1::JobStatus& status = job.status();
  out << "job " << job.id() << ": " << StateName(status) << "\n";
  if (!status.error().code().empty()) {
    out << "  error:    " << status.error().code() << ": " << status.error().message() << "\n";
  }
  if (!status.detail().empty()) out << "  detail:   " << status.detail() << "\n";
  out << "  source:   " << job.spec().source().address() << " ("
      << (status.upstream_connected() ? "connected" : "not connected") << ", offset "
      << status.source_offset() << ", " << status.upstream_reconnects() << " reconnects, "
      << HumanBytes(status.bytes_received()) << " received)\n";
  const v1::RdbProgress& rdb = status.rdb();
  out << "  rdb:      " << ProgressBar(rdb.bytes_read(), rdb.bytes_total(), 30) << " "
      << HumanBytes(rdb.bytes_read());
  if (rdb.bytes_total() != 0) out << " / " << HumanBytes(rdb.bytes_total());
  out << ", " << rdb.keys_read() << " keys\n";

  std::vector<std::vector<std::string>> rows = {
      {"TARGET", "FILTER", "LISTEN", "REPLICAS", "KEYS KEPT", "KEYS DROPPED", "CMDS KEPT",
       "CMDS DROPPED", "SPLIT", "MATERIALIZED", "SENT", "LAG", "LAG S"}};
  for (int i = 0; i < job.spec().targets_size(); ++i) {
    const v1::TargetSpec& spec = job.spec().targets(i);
    v1::TargetStatus target;
    for (const v1::TargetStatus& t : status.targets()) {
      if (t.name() == spec.name()) target = t;
    }
    rows.push_back({spec.name(), FilterText(spec.filter()), spec.listen(),
                    absl::StrCat(target.connected_replicas()), absl::StrCat(target.rdb_keys_kept()),
                    absl::StrCat(target.rdb_keys_dropped()), absl::StrCat(target.commands_kept()),
                    absl::StrCat(target.commands_dropped()), absl::StrCat(target.commands_split()),
                    absl::StrCat(target.keys_materialized()), HumanBytes(target.bytes_sent()),
                    HumanBytes(target.lag_bytes()), absl::StrFormat("%.1f", target.lag_seconds())});
  }
  std::ostringstream table;
  PrintTable(rows, table);
  std::istringstream lines(table.str());
  for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
}

void PrintJobAs(const v1::Job& job, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) {
    out << MessageToJson(job, /*multi_line=*/true) << "\n";
  } else {
    PrintJob(job, out);
  }
}

void PrintJobTable(const v1::ListJobsResponse& jobs, std::ostream& out) {
  std::vector<std::vector<std::string>> rows = {{"ID", "STATE", "SOURCE", "TARGETS", "DETAIL"}};
  for (const v1::Job& job : jobs.jobs()) {
    std::string detail = job.status().detail();
    if (!job.status().error().code().empty()) {
      detail = absl::StrCat(job.status().error().code(), ": ", job.status().error().message());
    }
    rows.push_back({job.id(), StateName(job.status()), job.spec().source().address(),
                    absl::StrCat(job.spec().targets_size()), detail});
  }
  PrintTable(rows, out);
}

}  // namespace reshard::client
