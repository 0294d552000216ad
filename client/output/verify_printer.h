#pragma once

// The human and JSON forms of a reshard.v1 VerifyReport, as `reshardctl
// verify` prints them (and `get` for the job's last verification).

#include <ostream>
#include <string>

#include "client/output/output_format.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

// The counts, the pre-check per db and target, then the problems listed:
//
//   verification of job split: 3 problems in 10000 keys (full, 0.41 s, 24390 keys/s)
//   keys checked 10000 (on targets 10001)  missing 1  stray 1  different 1  ...
//   ...
void PrintVerifyReport(const v1::VerifyReport& report, std::ostream& out);
// PrintVerifyReport, or for kJson the indented protobuf JSON and a newline.
void PrintVerifyReportAs(const v1::VerifyReport& report, OutputFormat format, std::ostream& out);

// One line for a running verification: "verifying job split: [####------]
// 40% 4000 / 10000 keys, 9800.0 keys/s, ETA 0s; 0 problems so far".
std::string VerifyProgressLine(const v1::VerifyReport& report);

// "MISSING", "STRAY", "DIFFERENT_VALUE", "DIFFERENT_TTL".
std::string ProblemKindName(v1::VerifyProblem::Kind kind);

}  // namespace reshard::client
