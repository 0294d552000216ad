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
//                           With a SecretBox (--secrets_key_file) it is
//                           sealed (AES-256-GCM, the job id as associated
//                           data); a plain one found at load is sealed then.
//   <dir>/<id>.state/       the job's durable state (engine/job/durable_state.h:
//                           its checkpoint journal and its targets' stream logs),
//                           created 0700.
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
#include "server/secret_box.h"

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
  // Set by LoadAll when the job's secret file cannot be opened (sealed with
  // another key, altered, sealed while no key is given): "<path>: ...". (One
  // that opens but does not parse is DATA_LOSS, like a corrupt job file.) The
  // job is then listed FAILED with this error and not started; its files
  // are left as they are, for a restart with the right key.
  absl::Status secrets_error;
};

class JobStore {
 public:
  // `dir` must exist. With `box`, secret files are sealed with it.
  explicit JobStore(std::string dir, std::optional<SecretBox> box = std::nullopt)
      : dir_(std::move(dir)), box_(std::move(box)) {}

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
  // secret file (none when that file is missing; one that cannot be opened
  // sets that job's secrets_error, and the others load). Errors name the file:
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
  // The secret file's text for `id`: JSON, sealed when there is a box.
  absl::StatusOr<std::string> SecretFileText(std::string_view id, const std::string& json) const;
  // Applies the secret file at `path` (if any) to job->spec; the error names
  // the file.
  absl::Status LoadSecrets(const std::string& path, StoredJob* job) const;

  std::string dir_;
  std::optional<SecretBox> box_;
};

}  // namespace reshard::server
