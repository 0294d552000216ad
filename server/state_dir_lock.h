#pragma once

// StateDirLock: one reshardd per --state_dir. Two processes driving the same
// jobs would both connect to the sources and both append to the same
// journals and logs. The lock is an exclusive flock on "<dir>/LOCK", held for
// the life of the object (the kernel drops it when the process dies, also by
// SIGKILL), with the holder's PID written in the file so that a second
// reshardd can say who holds it.

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace reshard::server {

class StateDirLock {
 public:
  // FAILED_PRECONDITION "--state_dir <dir> is in use by another reshardd (PID
  // <pid>, holding <dir>/LOCK)" when another process (or another lock in
  // this one) holds it; INTERNAL when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<StateDirLock>> Acquire(const std::string& dir);
  ~StateDirLock();  // releases the lock; the file stays
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  explicit StateDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace reshard::server
