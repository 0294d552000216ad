#pragma once

// JobStore: persistence of jobs under --state_dir, so that a restarted
// reshardd lists its jobs again and restarts the ones that were running.
//
// Files, one pair per job:
//   <dir>/<id>.json         the Job in protobuf JSON form: id, spec without any
//                           password, the last known state/error/detail, and
//                           the last cutover and verification reports.
//   <dir>/<id>.secret.json  only when the spec has a password: a JobSpec in
//                           JSON holding nothing but the password fields
//                           (targets by index), created with mode 0600.
//   <dir>/<id>.state/       the job's durable state (engine/job/durable_state.h:
//                           its checkpoint journal and its targets' stream logs).
// Both files are written to a temporary file, fsynced, renamed and the
// directory fsynced, so a crash leaves either the old or the new version.
// Not thread-safe: callers serialise.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/job/job_spec.h"
#include "engine/job/job_status.h"
#include "engine/job/verify_report.h"

namespace reshard::server {

struct StoredJob {
  std::string id;
  engine::JobSpec spec;  // with passwords
  engine::JobState state = engine::JobState::kPending;
  absl::Status error;
  std::string detail;
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
  std::optional<engine::CutoverReport> last_cutover;
  std::optional<engine::VerifyReport> last_verification;
};

class JobStore {
 public:
  // `dir` must exist.
  explicit JobStore(std::string dir) : dir_(std::move(dir)) {}

  // Writes both files (or removes an old secret file when the spec has no
  // password). INTERNAL "cannot create|write|rename <path>: <errno text>".
  absl::Status Save(const StoredJob& job) const;
  // Removes both files and the state directory; OK when they do not exist.
  absl::Status Remove(std::string_view id) const;
  // Where job `id` keeps its durable state.
  std::string StateDir(std::string_view id) const;
  // Empties it (a new job with this id must not continue an old one's state).
  absl::Status ClearState(std::string_view id) const;
  // Every job in the directory, ordered by id, with the passwords of its
  // secret file (none when that file is missing). Errors name the file:
  // DATA_LOSS "<path>: ..." for a file that does not parse, INVALID_ARGUMENT
  // "<path>: targets[0].filter: ..." for a spec a job cannot have, INTERNAL
  // for a directory that cannot be listed. Unknown fields are ignored.
  // With `set_aside`, a job file that cannot be loaded does not fail the
  // rest: it (and its secret file) is renamed to "<name>.corrupt" and
  // `set_aside` gets "<path>: <why>; moved to <path>.corrupt".
  absl::StatusOr<std::vector<StoredJob>> LoadAll(
      std::vector<std::string>* set_aside = nullptr) const;

  const std::string& dir() const { return dir_; }

 private:
  // One job file (and its secret file); errors name the file.
  absl::StatusOr<StoredJob> Load(const std::string& path) const;

  std::string dir_;
};

}  // namespace reshard::server
