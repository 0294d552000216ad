#include "client/rdb_commands.h"

#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "client/cli/exit_code.h"
#include "client/cli/job_spec_json.h"
#include "client/cli/rdb_args.h"
#include "client/output/rdb_report_printer.h"
#include "client/rdb_inspect.h"
#include "client/rdb_split.h"

namespace reshard::client {
namespace {

int Fail(const absl::Status& status, std::ostream& err) {
  err << "reshardctl rdb: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
      << "\n";
  return kExitError;
}

absl::StatusOr<std::vector<RdbSplitTargetSpec>> ReadSplitTargets(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read spec ", path));
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecJson(json);
  if (!spec.ok()) return spec.status();
  return SplitTargetsFromProto(*spec);
}

}  // namespace

int RunRdb(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  absl::StatusOr<RdbArgs> parsed = ParseRdbArgs(args);
  if (!parsed.ok()) {
    err << "reshardctl rdb: " << parsed.status().message() << "\n" << kRdbUsage;
    return kExitUsage;
  }
  const bool json = parsed->output == OutputFormat::kJson;
  if (parsed->command == "inspect") {
    absl::StatusOr<RdbInspection> inspection = InspectRdbFile(parsed->file, parsed->top);
    if (!inspection.ok()) return Fail(inspection.status(), err);
    json ? PrintInspectionJson(parsed->file, *inspection, out)
         : PrintInspection(parsed->file, *inspection, out);
    return kExitOk;
  }
  absl::StatusOr<std::vector<RdbSplitTargetSpec>> targets = ReadSplitTargets(parsed->spec_path);
  if (!targets.ok()) return Fail(targets.status(), err);
  absl::StatusOr<RdbSplitReport> report =
      parsed->command == "split"
          ? SplitRdbFile(parsed->file, *targets, parsed->out_dir, parsed->top)
          : PlanRdbFile(parsed->file, *targets, parsed->top);
  if (!report.ok()) return Fail(report.status(), err);
  json ? PrintSplitReportJson(*report, out)
       : PrintSplitReport(*report, /*show_biggest=*/parsed->command == "plan", out);
  return kExitOk;
}

int RunRdbCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return RunRdb(args, std::cout, std::cerr);
}

}  // namespace reshard::client
