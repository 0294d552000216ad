#pragma once

// JobJournal: a job's checkpoints (job_checkpoint.h) in "<dir>/journal",
// appended one line per record, so the newest complete one survives any
// crash; past `compact_bytes` the file is replaced (write, fsync, rename,
// fsync the directory) by one holding only the newest record. Durability
// across a crash of the machine follows the fsync policy; a crash of the
// process loses nothing. Single-threaded (the job thread).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/append_file.h"
#include "engine/io/file_syncer.h"
#include "engine/io/fsync_policy.h"
#include "engine/job/job_checkpoint.h"

namespace reshard::engine {

class JobJournal {
 public:
  struct Options {
    std::string dir;  // created if missing
    FsyncPolicy fsync = FsyncPolicy::kEverySec;
    FileSyncer* syncer = nullptr;       // kEverySec; null: synced at once
    uint64_t compact_bytes = 16 << 20;  // ~80k records: a rewrite (two fsyncs) is rare
  };

  // Opens the journal a previous process left (or a new one). A journal
  // with bytes but no valid record is moved aside to "journal.corrupt" and
  // problem() says so. Errors name the file when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<JobJournal>> Open(Options options);

  // The newest valid record of the previous process; nullopt when none.
  const std::optional<JobCheckpoint>& restored() const { return restored_; }
  // Why a journal that had bytes gave nothing (empty otherwise).
  const std::string& problem() const { return problem_; }

  // Appends `checkpoint` unless it equals the last one recorded; synced at
  // once under kAlways. Errors name the file (the journal then is unusable).
  absl::Status Record(const JobCheckpoint& checkpoint);
  // Forgets every record (the job starts a new full sync: nothing of the old
  // streams may be continued), durably.
  absl::Status Clear();
  absl::Status Sync();
  void SyncSoon();

  const std::string& path() const { return path_; }
  uint64_t records() const { return records_; }  // appended by this process

 private:
  explicit JobJournal(Options options);
  absl::Status Compact(const std::string& line);

  const Options options_;
  const std::string path_;
  std::unique_ptr<AppendFile> file_;
  std::optional<JobCheckpoint> restored_;
  std::optional<JobCheckpoint> last_;
  std::string problem_;
  uint64_t records_ = 0;
};

}  // namespace reshard::engine
