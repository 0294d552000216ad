#include "engine/job/job_journal.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/base/status_macros.h"
#include "engine/io/atomic_file.h"

namespace reshard::engine {

JobJournal::JobJournal(Options options)
    : options_(std::move(options)), path_(absl::StrCat(options_.dir, "/journal")) {}

absl::StatusOr<std::unique_ptr<JobJournal>> JobJournal::Open(Options options) {
  std::unique_ptr<JobJournal> journal(new JobJournal(std::move(options)));
  std::error_code error;
  std::filesystem::create_directories(journal->options_.dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", journal->options_.dir, ": ", error.message()));
  }
  ASSIGN_OR_RETURN(journal->file_, AppendFile::Open(journal->path_, false));
  AppendFile& file = *journal->file_;
  if (file.size() == 0) return journal;
  std::string text(file.size(), '\0');
  ASSIGN_OR_RETURN(size_t got, file.ReadAt(0, text.data(), text.size()));
  text.resize(got);
  absl::Status last_error;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::StatusOr<JobCheckpoint> record =
        DecodeCheckpoint(std::string_view(line.data(), line.size()));
    if (record.ok()) {
      journal->restored_ = *std::move(record);
    } else {
      last_error = record.status();  // a torn last line, after a crash, is normal
    }
  }
  if (!journal->restored_.has_value()) {
    const std::string aside = absl::StrCat(journal->path_, ".corrupt");
    journal->file_.reset();
    std::rename(journal->path_.c_str(), aside.c_str());
    journal->problem_ = absl::StrCat("journal ", journal->path_, " holds no valid record (",
                                     last_error.message(), "): moved to ", aside);
    ASSIGN_OR_RETURN(journal->file_, AppendFile::Open(journal->path_, true));
    return journal;
  }
  journal->last_ = journal->restored_;
  // Start afresh with the newest record only: a torn tail is not appended to.
  RETURN_IF_ERROR(journal->Compact(EncodeCheckpoint(*journal->restored_)));
  return journal;
}

absl::Status JobJournal::Compact(const std::string& line) {
  file_.reset();
  RETURN_IF_ERROR(WriteFileAtomically(path_, line, 0600));
  ASSIGN_OR_RETURN(file_, AppendFile::Open(path_, false));
  return absl::OkStatus();
}

absl::Status JobJournal::Record(const JobCheckpoint& checkpoint) {
  if (file_ == nullptr) return absl::FailedPreconditionError("the journal is closed");
  if (last_.has_value() && *last_ == checkpoint) return absl::OkStatus();
  std::string line = EncodeCheckpoint(checkpoint);
  last_ = checkpoint;
  ++records_;
  if (file_->size() + line.size() > options_.compact_bytes) return Compact(line);
  RETURN_IF_ERROR(file_->Append(line));
  if (options_.fsync == FsyncPolicy::kAlways) return file_->Sync();
  return absl::OkStatus();
}

absl::Status JobJournal::Clear() {
  last_.reset();
  return Compact("");
}

absl::Status JobJournal::Sync() {
  if (file_ == nullptr) return absl::OkStatus();
  return file_->Sync();
}

void JobJournal::SyncSoon() {
  if (file_ == nullptr) return;
  if (options_.syncer != nullptr) {
    file_->SyncSoon(*options_.syncer);
  } else {
    file_->Sync().IgnoreError();
  }
}

}  // namespace reshard::engine
