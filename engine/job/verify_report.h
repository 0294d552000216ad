#pragma once

// VerifyOptions and VerifyReport: how a verification of a job runs and what
// it found (engine/job/key_verifier.h runs it; verification.h runs it on a
// thread of its own). Plain values.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "engine/io/endpoint.h"

namespace reshard::engine {

enum class VerifyProblemKind {
  kMissing,         // a target whose filter selects a source key does not hold it
  kStray,           // a key on a target that its filter does not select, or that the source lacks
  kDifferentValue,  // the target's value differs from the source's
  kDifferentTtl,    // the TTLs (of the key or of a hash field) differ by more than the tolerance
};

// "MISSING", "STRAY", "DIFFERENT_VALUE", "DIFFERENT_TTL".
std::string_view VerifyProblemKindName(VerifyProblemKind kind);

struct VerifyProblem {
  int db = 0;
  std::string key;
  std::string target;  // the target's name
  VerifyProblemKind kind = VerifyProblemKind::kMissing;
  std::string detail;  // what differs, e.g. "ttl: source none, target 5000 ms"
  friend bool operator==(const VerifyProblem&, const VerifyProblem&) = default;
};

// The pre-check of one db: how many keys each target should hold (the
// source's keys through its filter, counted during the source SCAN) against
// its DBSIZE when the db's check started.
struct DbPrecheck {
  int db = 0;
  uint64_t source_keys = 0;           // source DBSIZE
  std::vector<uint64_t> expected;     // per target, index-aligned with the spec
  std::vector<uint64_t> target_keys;  // per target DBSIZE
  friend bool operator==(const DbPrecheck&, const DbPrecheck&) = default;
};

enum class VerifyState {
  kRunning,
  kDone,    // every key was checked: the counts are complete
  kFailed,  // a server could not be read (error says which); the counts are partial
};
// "RUNNING", "DONE", "FAILED".
std::string_view VerifyStateName(VerifyState state);

struct VerifyReport {
  VerifyState state = VerifyState::kRunning;
  std::string error;          // kFailed: why
  uint64_t keys_checked = 0;  // source keys compared (after sampling)
  uint64_t target_keys_checked = 0;
  uint64_t missing = 0;
  uint64_t stray = 0;
  uint64_t different = 0;  // DIFFERENT_VALUE + DIFFERENT_TTL
  // Differences seen once and checked again once the targets had applied
  // the source offset at which the key was read (lag is not loss).
  uint64_t rechecked = 0;
  // Keys still different at the last re-check, but not settled: the source
  // kept changing them, or a target never applied the offset in time.
  // Neither verified nor reported as problems.
  uint64_t unsettled = 0;
  double sample_fraction = 1.0;
  double rate_keys_per_second = 0;  // the bound it ran with; 0 = unlimited
  // The source server it read ("host:port"): the job's current source.
  std::string source_address;
  std::vector<DbPrecheck> precheck;
  std::vector<VerifyProblem> problems;  // the first max_problems of each kind
  // Progress: the keys to scan (source and targets' DBSIZE at the start)
  // and those scanned so far.
  uint64_t keys_total = 0;
  uint64_t keys_scanned = 0;
  // Of those, the pre-check's (a keys-only SCAN, much faster than the
  // compare), and when it ended: the ETA is the compare's.
  uint64_t precheck_keys = 0;
  absl::Duration precheck_duration;
  absl::Time started;
  absl::Duration duration;  // so far, while running
  uint64_t problem_count() const { return missing + stray + different; }
  // keys_scanned / keys_total in [0, 1] (1 once done).
  double progress() const;
  // Source keys compared per second of the run.
  double keys_per_second() const;
  // How long the rest should take at the compare's rate so far; zero when
  // unknown (still in the pre-check) or done.
  absl::Duration eta() const;
};

// The source offset each target has applied (index-aligned with the spec),
// or nullopt when the job no longer streams (ended, or not yet streaming).
using AppliedOffsets = std::function<std::optional<std::vector<uint64_t>>()>;

struct VerifyOptions {
  // (0, 1]: only keys whose hash falls in this fraction are checked (the same
  // keys every run). 1: every key.
  double sample_fraction = 1.0;
  // Keys read per second at most, by each pass: the source pass reads this
  // many source keys a second, the target pass this many target keys. 0:
  // unlimited.
  double rate_keys_per_second = 10000;
  size_t max_problems = 20;  // listed per kind (the counts are complete)
  // Expiry times (of keys and of hash fields) this close are equal.
  int64_t ttl_tolerance_ms = 2000;
  // A difference is checked again once every target concerned has applied
  // the source offset at which it was read, up to this many times (each time
  // the source had changed the key meanwhile), and reported only when it
  // holds against a source that did not change.
  int recheck_attempts = 5;
  // How long a re-check waits for a target to apply that offset.
  absl::Duration recheck_wait = absl::Seconds(30);
  size_t scan_count = 1000;
  // Where each target's Redis is, index-aligned with spec.targets. Empty
  // entries: the target's managed replica address, if it has one.
  std::vector<std::optional<RedisEndpoint>> target_endpoints;
  // The job's applied offsets; unset: differences are re-checked at once.
  AppliedOffsets applied_offsets;
  // Called with the report so far, every progress_interval and at the end.
  std::function<void(const VerifyReport&)> on_progress;
  absl::Duration progress_interval = absl::Milliseconds(200);
  // Set to stop early (the run ends kFailed, "cancelled").
  const std::atomic<bool>* cancel = nullptr;
  // When the run began (the report's `started`); InfinitePast: when it runs.
  absl::Time started = absl::InfinitePast();
};

}  // namespace reshard::engine
