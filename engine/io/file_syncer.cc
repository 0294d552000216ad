#include "engine/io/file_syncer.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/io/atomic_file.h"

namespace reshard::engine {

FileSyncer::FileSyncer() : thread_([this] { Run(); }) {}

FileSyncer::~FileSyncer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void FileSyncer::SyncSoon(int fd, const std::string& path) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  absl::MutexLock lock(&mu_);
  if (copy < 0) {
    if (first_error_.ok()) {
      first_error_ =
          absl::InternalError(absl::StrCat("cannot sync ", path, ": dup: ", std::strerror(errno)));
    }
    return;
  }
  queue_.push_back(Item{copy, path});
  ++queued_;
}

void FileSyncer::SyncDirectorySoon(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(Item{-1, dir});
  ++queued_;
}

void FileSyncer::Drain() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = queued_;
  auto done = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ >= target; };
  mu_.Await(absl::Condition(&done));
}

absl::Status FileSyncer::first_error() const {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

uint64_t FileSyncer::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

void FileSyncer::Run() {
  pthread_setname_np(pthread_self(), "fsync");
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, nothing left
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    absl::Status synced;
    if (item.fd >= 0) {
      if (::fdatasync(item.fd) != 0) {
        synced = absl::InternalError(
            absl::StrCat("cannot sync ", item.path, ": ", std::strerror(errno)));
      }
      ::close(item.fd);
    } else {
      synced = SyncDirectory(item.path);
    }
    absl::MutexLock lock(&mu_);
    ++done_;
    ++syncs_;
    if (!synced.ok() && first_error_.ok()) first_error_ = synced;
  }
}

}  // namespace reshard::engine
