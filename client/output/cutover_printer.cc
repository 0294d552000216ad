#include "client/output/cutover_printer.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/output/json_writer.h"

namespace reshard::client {

std::string CutoverStepLine(const std::string& step) { return absl::StrCat("step ", step); }

void PrintCutoverReport(const v1::CutoverReport& report, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) {
    out << MessageToJson(report, /*multi_line=*/true) << "\n";
    return;
  }
  for (const std::string& step : report.steps()) out << CutoverStepLine(step) << "\n";
  if (report.state() == v1::CutoverReport::ROLLED_BACK) {
    out << "rolled back: " << report.error() << "\n";
    if (report.write_pause_ms() > 0) {
      out << absl::StrFormat("write pause: %.1f ms\n", report.write_pause_ms());
    }
    out << "the job streams on\n";
    return;
  }
  if (report.state() == v1::CutoverReport::RUNNING) {
    out << "running\n";
    return;
  }
  out << absl::StrFormat("write pause: %.1f ms (CLIENT PAUSE %s, source %s)%s\n",
                         report.write_pause_ms(), report.pause_mode(), report.source_version(),
                         report.source_left_paused() ? "; the source is still paused" : "");
  out << "final offset: " << report.final_offset() << "\n";
  for (const v1::CutoverTarget& target : report.targets()) {
    out << "target " << target.name() << ": ";
    if (!target.managed() && !target.cluster()) {
      out << "not managed (no key count; promote it yourself), applied "
          << target.source_acked_offset() << "\n";
      continue;
    }
    std::map<int32_t, uint64_t> dbs(target.db_keys().begin(), target.db_keys().end());
    std::string per_db;
    for (const auto& [db, keys] : dbs) {
      absl::StrAppend(&per_db, per_db.empty() ? "" : ", ", "db", db, "=", keys);
    }
    out << target.keys() << " keys";
    if (!per_db.empty()) out << " (" << per_db << ")";
    out << ", applied " << target.source_acked_offset();
    if (target.cluster()) {
      out << ", a cluster (its masters take writes already)\n";
      continue;
    }
    out << (target.promoted() ? ", promoted (role:master)" : ", still a replica") << "\n";
  }
}

}  // namespace reshard::client
