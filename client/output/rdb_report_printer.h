#pragma once

// The table and JSON forms of what `reshardctl rdb inspect`, `split` and
// `plan` found. Tables show keys and aux values C-escaped; JSON escapes every
// byte outside printable ASCII as \u00XX (client/output/json_writer.h).

#include <ostream>
#include <string>

#include "client/rdb_inspect.h"
#include "client/rdb_split.h"

namespace reshard::client {

// `rdb inspect`: file, version, aux fields, keys per db and type, biggest keys.
void PrintInspection(const std::string& file, const RdbInspection& inspection, std::ostream& out);
// The same as one JSON object and a newline.
void PrintInspectionJson(const std::string& file, const RdbInspection& inspection,
                         std::ostream& out);

// `rdb split` / `rdb plan`: one row per target and the totals; with
// `show_biggest` (a plan) each target's biggest keys instead of its file.
void PrintSplitReport(const RdbSplitReport& report, bool show_biggest, std::ostream& out);
// The same as one JSON object and a newline.
void PrintSplitReportJson(const RdbSplitReport& report, std::ostream& out);

}  // namespace reshard::client
