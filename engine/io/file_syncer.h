#pragma once

// FileSyncer: fdatasync in a thread of its own, as Redis's appendfsync
// everysec does in a background thread, so that a slow disk never stalls the
// event loop that writes the files. The owner queues a file (by descriptor,
// which is duplicated: the owner may close or delete its own at once) and
// goes on; the thread syncs what is queued in order. Thread-safe.

#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace reshard::engine {

class FileSyncer {
 public:
  FileSyncer();
  // Syncs what is still queued, then joins the thread.
  ~FileSyncer();
  FileSyncer(const FileSyncer&) = delete;
  FileSyncer& operator=(const FileSyncer&) = delete;

  // Queues an fdatasync of the file open as `fd`; `path` names it in errors.
  void SyncSoon(int fd, const std::string& path);
  // Queues an fsync of directory `dir` (files created or removed in it).
  void SyncDirectorySoon(const std::string& dir);
  // Returns once everything queued before the call is synced.
  void Drain();

  // The first sync that failed ("cannot sync <path>: <errno text>"); OK
  // while none did.
  absl::Status first_error() const;
  // Syncs done so far (for tests).
  uint64_t syncs() const;

 private:
  struct Item {
    int fd = -1;  // owned (a dup); -1 for a directory
    std::string path;
  };
  void Run();

  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_ ABSL_GUARDED_BY(mu_) = 0;  // items ever queued
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;    // items ever finished
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace reshard::engine
