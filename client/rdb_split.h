#pragma once

// Offline splitting of one RDB file by the targets of a job spec
// (`reshardctl rdb split` and its dry run `reshardctl rdb plan`). The same
// engine::RdbSplitter and key filters as a live job decide where each key
// goes, so a plan predicts a split byte for byte.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/rdb_inspect.h"
#include "engine/route/key_filter.h"
#include "reshard/v1/job_service.pb.h"

namespace reshard::client {

struct RdbSplitTargetSpec {
  std::string name;
  engine::FilterSpec filter;
};

// The targets of a JobSpec (only names and filters matter offline).
// INVALID_ARGUMENT naming the field: no targets, an empty, duplicate or
// path-like name (it becomes a file name), a missing or bad filter.
absl::StatusOr<std::vector<RdbSplitTargetSpec>> SplitTargetsFromProto(const v1::JobSpec& spec);

struct RdbSplitTargetReport {
  std::string name;
  std::string filter;  // KeyFilter::Describe()
  std::string path;    // the written file; empty for a plan
  uint64_t keys = 0;
  uint64_t bytes = 0;  // size of the target's RDB file
  std::vector<RdbKeyInfo> biggest;
};

struct RdbSplitReport {
  int version = 0;
  uint64_t keys_read = 0;
  uint64_t keys_unmatched = 0;      // written nowhere
  uint64_t keys_multi_matched = 0;  // written to more than one target
  std::vector<RdbSplitTargetReport> targets;
};

// Writes `out_dir`/<name>.rdb for every target (creating out_dir if needed).
// Each file is written as <name>.rdb.tmp and renamed only once the whole
// input verified; on any error every .tmp file is removed and no .rdb is
// created or replaced. Errors: the input's (NOT_FOUND, DATA_LOSS "rdb offset
// N: ...: ..."), INTERNAL for an output that cannot be written.
absl::StatusOr<RdbSplitReport> SplitRdbFile(const std::string& path,
                                            const std::vector<RdbSplitTargetSpec>& targets,
                                            const std::string& out_dir, size_t biggest_limit = 10);

// The same routing with nothing written: exact per-target keys and bytes
// (the sizes the files of SplitRdbFile would have) and biggest keys.
absl::StatusOr<RdbSplitReport> PlanRdbFile(const std::string& path,
                                           const std::vector<RdbSplitTargetSpec>& targets,
                                           size_t biggest_limit = 10);

}  // namespace reshard::client
