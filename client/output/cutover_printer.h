#pragma once

// The human and JSON forms of a reshard.v1 CutoverReport, as `reshardctl
// cutover` prints it.

#include <ostream>

#include "client/output/output_format.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// Each step as the server did it, then the outcome: for DONE the measured
// write pause, the final offset and one line per target (keys per db,
// promoted or not); for ROLLED_BACK the error. For kJson the indented
// protobuf JSON mapping and a newline.
void PrintCutoverReport(const v1::CutoverReport& report, OutputFormat format, std::ostream& out);

// "step 1 lag: ..." for one step line of the report.
std::string CutoverStepLine(const std::string& step);

}  // namespace reshard::client
