#include "client/output/verify_printer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/output/json_writer.h"
#include "client/output/progress_bar.h"
#include "client/output/table_printer.h"

namespace reshard::client {

std::string ProblemKindName(v1::VerifyProblem::Kind kind) {
  return v1::VerifyProblem::Kind_Name(kind);
}

std::string VerifyProgressLine(const v1::VerifyReport& report) {
  uint64_t problems = report.missing() + report.stray() + report.different();
  return absl::StrCat(
      "verifying job ", report.job_id(), ": ",
      KeysProgress(report.keys_scanned(), report.keys_total(), report.keys_per_second(), 20), "; ",
      problems, problems == 1 ? " problem" : " problems", " so far");
}

void PrintVerifyReport(const v1::VerifyReport& report, std::ostream& out) {
  uint64_t problems = report.missing() + report.stray() + report.different();
  std::string scope = report.sample_fraction() >= 1
                          ? std::string("full")
                          : absl::StrFormat("sample %g", report.sample_fraction());
  std::string verdict;
  switch (report.state()) {
    case v1::VerifyReport::RUNNING:
      verdict = absl::StrCat("running, ", problems, " problems so far");
      break;
    case v1::VerifyReport::FAILED:
      verdict = absl::StrCat("FAILED (", report.error(), "), ", problems, " problems so far");
      break;
    default:
      verdict = problems == 0 ? std::string("OK, no problems")
                              : absl::StrCat(problems, problems == 1 ? " problem" : " problems");
  }
  out << "verification of job " << report.job_id() << ": " << verdict << " in "
      << report.keys_checked() << " keys ("
      << absl::StrFormat("%s, %.2f s, %.0f keys/s)", scope, report.duration_seconds(),
                         report.keys_per_second())
      << "\n";
  if (!report.source_address().empty())
    out << "source read from " << report.source_address() << "\n";
  out << "keys checked " << report.keys_checked() << " (on targets " << report.target_keys_checked()
      << ")  missing " << report.missing() << "  stray " << report.stray() << "  different "
      << report.different() << "  rechecked " << report.rechecked() << "  unsettled "
      << report.unsettled() << "\n";
  if (report.unsettled() > 0) {
    out << report.unsettled()
        << " keys could not be settled (the source kept changing them, or a target did not apply "
           "the offset in time): not verified; verify again to check them\n";
  }
  if (report.precheck_size() > 0) {
    out << "\npre-check (expected keys / DBSIZE per target):\n";
    std::vector<std::vector<std::string>> rows = {{"DB", "SOURCE"}};
    for (const std::string& name : report.target_names()) rows[0].push_back(name);
    for (const v1::VerifyPrecheck& db : report.precheck()) {
      std::vector<std::string> row = {absl::StrCat("db", db.db()), absl::StrCat(db.source_keys())};
      for (int t = 0; t < db.expected_keys_size() && t < db.target_keys_size(); ++t) {
        std::string cell = absl::StrCat(db.expected_keys(t), " / ", db.target_keys(t));
        if (db.expected_keys(t) != db.target_keys(t)) cell += " !";
        row.push_back(cell);
      }
      rows.push_back(std::move(row));
    }
    PrintTable(rows, out);
  }
  if (report.problems_size() > 0) {
    out << "\nproblems";
    if (static_cast<uint64_t>(report.problems_size()) < problems) {
      out << " (" << report.problems_size() << " listed of " << problems
          << ": the first of each kind)";
    }
    out << ":\n";
    std::vector<std::vector<std::string>> rows = {{"DB", "TARGET", "KIND", "KEY", "DETAIL"}};
    for (const v1::VerifyProblem& p : report.problems()) {
      rows.push_back(
          {absl::StrCat(p.db()), p.target(), ProblemKindName(p.kind()), p.key(), p.detail()});
    }
    PrintTable(rows, out);
  }
}

void PrintVerifyReportAs(const v1::VerifyReport& report, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kJson) {
    out << MessageToJson(report, /*multi_line=*/true) << "\n";
  } else {
    PrintVerifyReport(report, out);
  }
}

}  // namespace reshard::client
